export { isThreadId, newThreadId, parseThreadId, type ThreadId } from './thread-id.js';
export {
  defaultThreadMetadata,
  type ThreadHistoryModeValue,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
} from './thread-metadata.js';
