import { readFile } from 'node:fs/promises';
import { sessionIndexPath } from '@skein/rollout';

/**
 * The current name of every thread in `session_index.jsonl`, in the order their latest line
 * appears (the last line per id wins; unparseable lines are skipped). Read-only.
 */
export async function readSessionIndexNames(home: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(sessionIndexPath(home), 'utf8');
  } catch {
    return new Map();
  }
  const names = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    try {
      const entry = JSON.parse(line) as { id?: unknown; thread_name?: unknown };
      if (typeof entry.id !== 'string' || typeof entry.thread_name !== 'string') continue;
      const id = entry.id.toLowerCase();
      names.delete(id);
      names.set(id, entry.thread_name);
    } catch {
      // a torn or foreign line: Codex skips it too
    }
  }
  return names;
}
