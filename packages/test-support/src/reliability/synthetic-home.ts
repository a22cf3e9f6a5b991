/**
 * Homes for backfill faults: many small legacy rollouts with no state DB (the first process
 * to open the home backfills them), and a read-only look at the backfill's progress.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface SyntheticThread {
  id: string;
  path: string;
  firstMessage: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * Writes `count` small legacy rollouts (Codex 0.131's line shapes: session_meta, a user
 * message as response item and event, an agent reply) into `home`'s sessions/ tree, one second
 * apart from `startMs`, with no state DB: the first process to open the home backfills them.
 */
export function writeSyntheticHome(
  home: string,
  count: number,
  startMs = Date.UTC(2026, 0, 5, 9, 0, 0),
): SyntheticThread[] {
  const threads: SyntheticThread[] = [];
  for (let i = 0; i < count; i += 1) {
    const ms = startMs + i * 1000;
    const at = new Date(ms);
    const id = uuidV7Like(ms, i);
    const stamp = `${at.getUTCFullYear()}-${pad2(at.getUTCMonth() + 1)}-${pad2(at.getUTCDate())}T${pad2(at.getUTCHours())}-${pad2(at.getUTCMinutes())}-${pad2(at.getUTCSeconds())}`;
    const dir = join(
      home,
      'sessions',
      String(at.getUTCFullYear()),
      pad2(at.getUTCMonth() + 1),
      pad2(at.getUTCDate()),
    );
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `rollout-${stamp}-${id}.jsonl`);
    const timestamp = at.toISOString();
    const firstMessage = `Synthetic question ${i}`;
    const lines = [
      {
        timestamp,
        type: 'session_meta',
        payload: {
          id,
          timestamp,
          cwd: '/home/dev/projects/synthetic',
          originator: 'skein_reliability',
          cli_version: '0.131.0',
          source: 'cli',
          model_provider: 'openai',
          base_instructions: null,
        },
      },
      {
        timestamp,
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: firstMessage }],
        },
      },
      {
        timestamp,
        type: 'event_msg',
        payload: {
          type: 'user_message',
          message: firstMessage,
          images: [],
          local_images: [],
          text_elements: [],
        },
      },
      {
        timestamp,
        type: 'event_msg',
        payload: { type: 'agent_message', message: `Synthetic answer ${i}`, phase: null },
      },
    ];
    writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const seconds = ms / 1000;
    utimesSync(path, seconds, seconds);
    threads.push({ id, path, firstMessage });
  }
  return threads;
}

/** A UUIDv7-shaped id for a given time and index (deterministic, unique per index). */
function uuidV7Like(ms: number, index: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const tail = (index + 1).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail}`;
}

export interface BackfillSnapshot {
  /** Codex's `backfill_state.status`, or null before the DB exists. */
  status: string | null;
  /** The pid of the Skein process holding Skein's side of the backfill lease, if any. */
  holderPid: number | null;
  /** Files the current (or last) import counted. */
  filesDone: number | null;
  /** Rows in `threads`. */
  threads: number | null;
}

/**
 * A read-only look at a home's backfill: Codex's `backfill_state` row, Skein's lease holder
 * (`skein_1.sqlite`) and the thread count. Anything that cannot be read yet reads as null.
 */
export function backfillSnapshot(home: string): BackfillSnapshot {
  const snapshot: BackfillSnapshot = {
    status: null,
    holderPid: null,
    filesDone: null,
    threads: null,
  };
  const read = <T>(file: string, query: (db: Database.Database) => T): T | null => {
    if (!existsSync(join(home, file))) return null;
    let db: Database.Database | undefined;
    try {
      db = new Database(join(home, file), { readonly: true, fileMustExist: true, timeout: 200 });
      return query(db);
    } catch {
      return null;
    } finally {
      db?.close();
    }
  };
  read('state_5.sqlite', (db) => {
    const row = db.prepare('SELECT status FROM backfill_state WHERE id = 1').get() as
      | { status: string }
      | undefined;
    snapshot.status = row?.status ?? null;
    snapshot.threads = (db.prepare('SELECT count(*) AS n FROM threads').get() as { n: number }).n;
  });
  read('skein_1.sqlite', (db) => {
    const lease = db.prepare("SELECT owner_pid FROM leases WHERE name = 'backfill'").get() as
      | { owner_pid: number }
      | undefined;
    snapshot.holderPid = lease?.owner_pid ?? null;
    const progress = db.prepare('SELECT files_done FROM backfill_progress WHERE id = 1').get() as
      | { files_done: number }
      | undefined;
    snapshot.filesDone = progress?.files_done ?? null;
  });
  return snapshot;
}
