import {
  defaultThreadMetadata,
  newThreadId,
  StateRuntime,
  type ThreadId,
  type ThreadMetadata,
} from '../src/index.js';

const openedRuntimes: StateRuntime[] = [];

/** Opens a state DB in `dir` (created with `createSchema` when given), closed by `closeOpened`. */
export async function openRuntime(dir: string, createSchema?: string): Promise<StateRuntime> {
  const runtime = await StateRuntime.open({
    sqliteHome: dir,
    ...(createSchema ? { createSchema } : {}),
  });
  openedRuntimes.push(runtime);
  return runtime;
}

/** Closes every runtime `openRuntime` opened (a test file's `afterEach`). */
export async function closeOpened(): Promise<void> {
  for (const runtime of openedRuntimes.splice(0)) await runtime.close();
}

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
