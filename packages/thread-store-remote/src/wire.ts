/**
 * Domain ↔ wire conversions for `codex.thread_store.v1`. Both directions fill the v2 fields (so a
 * stock peer understands us) and Skein's `>= 100` additions (so a Skein peer loses nothing); a
 * decoder prefers the additions when they are present. Everything that enters is checked with
 * the zod schemas of @skein/thread-store and fails `InvalidRequest` when it does not parse.
 * One codec file per message family under `wire/`; this file gathers them for the client and
 * the server.
 */

export {
  createThreadFromMessage,
  createThreadToMessage,
  resumeThreadFromMessage,
  resumeThreadToMessage,
} from './wire/create-resume-thread.js';
export {
  decodeItems,
  encodeItems,
  parseJsonField,
  parseThreadIdField,
} from './wire/json-fields.js';
export {
  listThreadsFromMessage,
  listThreadsToMessage,
  threadPageFromMessage,
  threadPageToMessage,
} from './wire/list-threads.js';
export {
  patchFromMessage,
  patchToMessage,
} from './wire/metadata-patch.js';
export {
  sessionSourceFromMessage,
  sessionSourceToMessage,
} from './wire/session-source.js';
export {
  historyFromMessage,
  historyToMessage,
  storedThreadFromMessage,
  storedThreadToMessage,
} from './wire/stored-thread.js';
