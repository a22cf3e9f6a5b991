/**
 * What a killed or faulted process left on disk: a thread's rollout files, their JSON lines,
 * the sequence numbers a test injected, the indexed thread name, and which acknowledged
 * numbers were lost.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a thread's rollout files are on disk: `sessions/…` and `archived_sessions/…`. */
export function rolloutFilesOnDisk(
  home: string,
  threadId: string,
): { active: string[]; archived: string[] } {
  const find = (dir: string, out: string[]): string[] => {
    if (!existsSync(dir)) return out;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) find(path, out);
      else if (entry.name.startsWith('rollout-') && entry.name.endsWith(`${threadId}.jsonl`))
        out.push(path);
    }
    return out;
  };
  return {
    active: find(join(home, 'sessions'), []),
    archived: find(join(home, 'archived_sessions'), []),
  };
}

/** Every parsed JSON line of a file (torn or malformed lines skipped). */
export function jsonLinesOnDisk(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a torn tail, or a malformed line: readers skip it too
    }
  }
  return out;
}

/** The `seq <n>` texts of user `message` response items in a rollout, in file order. */
export function injectedSeqsOnDisk(file: string): number[] {
  const out: number[] = [];
  for (const line of jsonLinesOnDisk(file)) {
    const payload = line.payload as { type?: string; content?: { text?: string }[] } | undefined;
    if (line.type !== 'response_item' || payload?.type !== 'message') continue;
    for (const part of payload.content ?? []) {
      const match = /^seq (\d+)$/.exec(part?.text ?? '');
      if (match) out.push(Number(match[1]));
    }
  }
  return out;
}

/** The name `session_index.jsonl` gives a thread now (its last entry), or null. */
export function indexedNameOnDisk(home: string, threadId: string): string | null {
  const file = join(home, 'session_index.jsonl');
  if (!existsSync(file)) return null;
  let name: string | null = null;
  for (const line of jsonLinesOnDisk(file)) {
    if (line.id === threadId && typeof line.thread_name === 'string') name = line.thread_name;
  }
  return name;
}

/**
 * Acknowledged sequence numbers missing from `seqs` (`acknowledged`: every number up to it,
 * or exactly these), and whether `seqs` strictly increases (nothing twice, nothing reordered).
 */
export function lostSeqs(
  seqs: readonly number[],
  acknowledged: number | ReadonlySet<number>,
): { lost: number; inOrder: boolean } {
  const inOrder = seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!);
  const present = new Set(seqs);
  let lost = 0;
  if (typeof acknowledged === 'number') {
    for (let n = 1; n <= acknowledged; n += 1) if (!present.has(n)) lost += 1;
  } else {
    for (const n of acknowledged) if (!present.has(n)) lost += 1;
  }
  return { lost, inOrder };
}
