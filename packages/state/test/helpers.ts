import {
  defaultThreadMetadata,
  newThreadId,
  type ThreadId,
  type ThreadMetadata,
} from '../src/index.js';

let clockMs = Date.UTC(2025, 0, 1);

/** A thread row with distinct, increasing times (seconds apart) unless overridden. */
export function sampleThread(overrides: Partial<ThreadMetadata> = {}): ThreadMetadata {
  clockMs += 5_000;
  const id = overrides.id ?? newThreadId(clockMs);
  return {
    ...defaultThreadMetadata(
      id as ThreadId,
      `/home/dev/.codex/sessions/rollout-${id}.jsonl`,
      clockMs,
      'cli',
      'openai',
    ),
    updatedAtMs: clockMs,
    cwd: '/home/dev/project',
    title: `title ${id.slice(-4)}`,
    preview: `preview ${id.slice(-4)}`,
    firstUserMessage: `preview ${id.slice(-4)}`,
    ...overrides,
  };
}
