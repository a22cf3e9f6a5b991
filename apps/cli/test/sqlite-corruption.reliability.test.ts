/**
 * A corrupt state DB on a copy of a real Codex 0.169 home: garbage over the header, over
 * pages in the middle, and over the write-ahead log of a process killed after a rename. Every
 * time, a fresh `skein` and a fresh app-server must still show every thread the home had, with
 * its name (including the rename acknowledged just before) and archived state: the rollouts
 * and `session_index.jsonl` are the truth, the DB is rebuilt from them. A damaged WAL tail is
 * dropped by SQLite itself, and with it the DB half of the rename: Codex 0.169 lists names from
 * the DB, so `skein doctor` must name that drift and `--repair` write the index's name back.
 */
import { closeSync, existsSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { JsonRpcChild, LineChild, Rng, recordFigures, removeTempDir } from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, fixture, thread } from './helpers.js';

const APP_SERVER = join(import.meta.dirname, '..', '..', 'app-server', 'dist', 'main.js');
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

async function skeinJson<T>(home: string, args: string[]): Promise<T> {
  const run = new LineChild(process.execPath, [CLI, '--codex-home', home, ...args, '--json'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exit = await run.exited;
  if (exit.code !== 0)
    throw new Error(`skein ${args.join(' ')} exited ${exit.code}: ${run.stderr}`);
  return JSON.parse(run.lines.join('\n')) as T;
}

/** `skein doctor [--repair] --json`: its exit code and the kinds and subjects it found. */
async function doctor(home: string, repair: boolean): Promise<{ code: number; found: string[] }> {
  const args = ['--codex-home', home, 'doctor', ...(repair ? ['--repair'] : []), '--json'];
  const run = new LineChild(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exit = await run.exited;
  const report = JSON.parse(run.lines.join('\n')) as {
    findings: { kind: string; subject: string }[];
  };
  return { code: exit.code ?? -1, found: report.findings.map((f) => `${f.kind} ${f.subject}`) };
}

type Seen = Map<string, { name: string | null; archived: boolean }>;

/** Every listed thread (active and archived, any source), as a fresh `skein` sees them. */
async function everyThread(home: string): Promise<Seen> {
  const seen: Seen = new Map();
  for (const archived of [false, true]) {
    const args = [
      'list',
      '--all',
      '--source',
      'any',
      '--provider',
      'any',
      ...(archived ? ['--archived'] : []),
    ];
    const threads = await skeinJson<{ id: string; name: string | null }[]>(home, args);
    for (const t of threads) seen.set(t.id, { name: t.name, archived });
  }
  return seen;
}

function overwrite(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function garbage(rng: Rng, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => rng.int(0, 255)));
}

type Kind = 'header' | 'pages' | 'wal';

describe('a corrupt state DB', () => {
  it('header, middle pages and the write-ahead log: every thread, name and archive state survives', async () => {
    const started = Date.now();
    const rng = new Rng();
    const kinds: Kind[] = ['header', 'pages', 'wal'];
    const results: Record<string, string> = {};
    let lost = 0;
    let threadsChecked = 0;
    let rebuilt = 0;
    for (const kind of kinds) {
      const { home, manifest } = fixture('codex-0.169');
      homes.push(home);
      const renamed = thread(manifest, 'plain').id;
      const before = await everyThread(home);
      const db = join(home, 'state_5.sqlite');
      const name = `renamed before the ${kind} damage`;
      if (kind === 'wal') {
        // A rename answered by an app-server killed right after: its commit sits in the WAL.
        const server = new JsonRpcChild(process.execPath, [APP_SERVER], {
          env: { ...process.env, CODEX_HOME: home },
          cwd: home,
        });
        await server.initialize();
        await server.request('thread/name/set', { threadId: renamed, name });
        await server.kill();
        const wal = `${db}-wal`;
        expect(existsSync(wal) && statSync(wal).size > 32).toBe(true);
        // Garbage over the frames (the 32-byte WAL header is kept).
        overwrite(wal, 32 + rng.int(0, 64), garbage(rng, Math.min(8192, statSync(wal).size - 100)));
      } else {
        await skeinJson(home, ['rename', renamed, name]);
        const size = statSync(db).size;
        const pageSize = readPageSize(db);
        if (kind === 'header') overwrite(db, 0, garbage(rng, 100));
        else {
          for (let page = 1; page < size / pageSize; page += 2) {
            overwrite(db, page * pageSize + rng.int(0, 64), garbage(rng, 256));
          }
        }
      }
      const expected = new Map(before);
      expected.set(renamed, { name, archived: false });

      if (kind === 'wal') {
        const check = await doctor(home, false);
        // Whatever the garbage hit, what doctor finds is the rename's lost DB half, no more.
        for (const found of check.found)
          expect(found).toMatch(new RegExp(`^name-\\S+ ${renamed}$`));
        if (check.found.length > 0) {
          expect(check.code).toBe(5);
          expect(await doctor(home, true)).toMatchObject({ code: 0 });
        }
      }
      const after = await everyThread(home);
      // A damaged file was moved aside and rebuilt from the rollouts.
      if (existsSync(join(home, 'db-backups'))) rebuilt += 1;
      const server = new JsonRpcChild(process.execPath, [APP_SERVER], {
        env: { ...process.env, CODEX_HOME: home },
        cwd: home,
      });
      await server.initialize();
      let missing = 0;
      for (const [id, state] of expected) {
        threadsChecked += 1;
        const now = after.get(id);
        if (now === undefined || now.name !== state.name || now.archived !== state.archived) {
          missing += 1;
          results[`${kind} ${id}`] = JSON.stringify({ expected: state, got: now ?? null });
        }
        const read = await server.answer(server.send('thread/read', { threadId: id }));
        const readName = (read.result as { thread?: { name?: string | null } } | undefined)?.thread
          ?.name;
        if (read.error !== undefined || readName !== state.name) {
          missing += 1;
          results[`${kind} read ${id}`] = JSON.stringify(read.error ?? { readName });
        }
      }
      await server.stop();
      lost += missing;
      results[kind] = `${after.size} of ${expected.size} threads, ${missing} wrong`;
    }
    recordFigures(
      'SQLite corruption: header, pages, -wal',
      {
        corruptions: kinds.length,
        'DBs rebuilt': rebuilt,
        'threads checked': threadsChecked,
        lost,
        seed: rng.seed,
      },
      started,
    );
    expect(lost, JSON.stringify(results, null, 2)).toBe(0);
    // The header and page damage is detected and the DB rebuilt (a damaged WAL tail is
    // dropped by SQLite itself).
    expect(rebuilt).toBeGreaterThanOrEqual(2);
  });
});

function readPageSize(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(100);
    readSync(fd, header, 0, 100, 0);
    const size = header.readUInt16BE(16);
    return size === 1 ? 65_536 : size;
  } finally {
    closeSync(fd);
  }
}
