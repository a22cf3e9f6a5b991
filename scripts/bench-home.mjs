// What the benches' synthetic Codex homes share: time-ordered thread ids and rollout files
// written where Codex puts them (`sessions/YYYY/MM/DD/rollout-<stamp>-<id>.jsonl`, or flat in
// `archived_sessions/`). Stamps use UTC, not local time as Codex does, so a bench's home is the
// same on every machine (and its cached template stays valid). Each bench keeps its own rollout
// content: the homes differ on purpose (sizes, providers, sources).
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** A UUIDv7-shaped thread id ordered by `ms`, unique per index `i`. */
export function benchThreadId(ms, i) {
  const hex = ms.toString(16).padStart(12, '0');
  const tail = i.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail}`;
}

/**
 * Writes one rollout's text at its dated path (or in `archived_sessions/`), with the file's
 * mtime at `mtimeMs` when given. Returns its size in bytes.
 */
export function writeDatedRollout(home, { id, createdMs, text, archived = false, mtimeMs }) {
  const d = new Date(createdMs);
  const [year, month, day] = [
    String(d.getUTCFullYear()),
    pad(d.getUTCMonth() + 1),
    pad(d.getUTCDate()),
  ];
  const stamp = `${year}-${month}-${day}T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
  const dir = archived ? join(home, 'archived_sessions') : join(home, 'sessions', year, month, day);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `rollout-${stamp}-${id}.jsonl`);
  writeFileSync(path, text);
  if (mtimeMs !== undefined) utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
  return Buffer.byteLength(text);
}
