import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { makeTempDir } from '@skein/test-support';
import type { Database } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dropRenameIntent,
  getThread,
  isRenameIntentAbandoned,
  listRenameIntents,
  patchThreadMetadata,
  RENAME_INTENT_STALE_MS,
  recordRenameIntent,
  storedThreadName,
  upsertThread,
} from '../src/index.js';
import { closeOpened, openRuntime, sampleThread } from './helpers.js';

const open = openRuntime;
afterEach(closeOpened);

/** A pid that just exited (its process is gone and reaped). */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  });
  return Number(child.stdout.trim());
}

describe('rename intents in the sidecar', () => {
  // 0.131: the sidecar attached to Codex's connection; 0.169: on its own connection.
  it.each(['0.131.0', '0.169.0'])(
    'are kept across opens until dropped (%s schema)',
    async (schema) => {
      const dir = makeTempDir();
      const first = await open(dir, schema);
      const id = await recordRenameIntent(first, {
        threadId: 't-1',
        name: 'new',
        dbNameBefore: 'old',
        indexNameBefore: null,
      });
      await first.close();
      const again = await open(dir, schema);
      const [intent, ...rest] = await listRenameIntents(again);
      expect(rest).toEqual([]);
      expect(intent).toMatchObject({
        id,
        threadId: 't-1',
        name: 'new',
        dbNameBefore: 'old',
        indexNameBefore: null,
        owner: { host: hostname(), pid: process.pid },
      });
      // This process is alive and the intent is fresh: its rename may still be under way.
      expect(isRenameIntentAbandoned(intent!)).toBe(false);
      expect(await listRenameIntents(again, 'other')).toEqual([]);
      await dropRenameIntent(again, id);
      expect(await listRenameIntents(again)).toEqual([]);
    },
  );

  // A power cut must not take back an intent whose index append went to disk: the insert is
  // committed with the sidecar's schema at synchronous = FULL (2), which then goes back to
  // NORMAL (1) for every other write. A temp trigger on the connection that writes the sidecar
  // records the setting the insert ran under.
  it.each(['0.131.0', '0.169.0'])(
    'are synced to disk when they commit, and leave the sidecar at NORMAL (%s schema)',
    async (schema) => {
      const runtime = await open(makeTempDir(), schema);
      const sidecarSqlite = (runtime as unknown as { sidecarSqlite: Database }).sidecarSqlite;
      const attached = sidecarSqlite === runtime.sqlite;
      const table = attached ? 'skein.rename_intents' : 'main.rename_intents';
      const at = attached ? 'skein' : 'main';
      sidecarSqlite.exec(`create temp table seen (synchronous integer)`);
      sidecarSqlite.exec(`create temp trigger record_synchronous after insert on ${table} begin
        insert into seen select synchronous from pragma_synchronous where schema = '${at}'; end`);
      await recordRenameIntent(runtime, {
        threadId: 't-1',
        name: 'new',
        dbNameBefore: null,
        indexNameBefore: null,
      });
      expect(sidecarSqlite.prepare('select synchronous from seen').pluck().all()).toEqual([2]);
      expect(sidecarSqlite.pragma(`${at}.synchronous`, { simple: true })).toBe(1);
      // Codex's DB keeps its own setting throughout.
      expect(runtime.sqlite.pragma('main.synchronous', { simple: true })).toBe(1);
    },
  );

  it('count as abandoned once their process is gone, or when long past any rename', async () => {
    const dir = makeTempDir();
    const runtime = await open(dir);
    await recordRenameIntent(runtime, {
      threadId: 't-1',
      name: null,
      dbNameBefore: null,
      indexNameBefore: 'old',
    });
    const [intent] = await listRenameIntents(runtime);
    const live = intent!;
    expect(isRenameIntentAbandoned({ ...live, owner: { ...live.owner, pid: exitedPid() } })).toBe(
      true,
    );
    expect(isRenameIntentAbandoned(live, live.createdAtMs + RENAME_INTENT_STALE_MS + 1)).toBe(true);
    // Another host's process cannot be checked: only time settles its intents.
    const remote = { ...live, owner: { ...live.owner, host: `${hostname()}-elsewhere` } };
    expect(isRenameIntentAbandoned(remote)).toBe(false);
  });

  it('storedThreadName reads the column a rename writes', async () => {
    const old = await open(makeTempDir(), '0.131.0');
    const thread = sampleThread();
    await upsertThread(old.ctx, thread);
    await patchThreadMetadata(old.ctx, thread.id, { name: 'renamed' });
    const row = await getThread(old.ctx, thread.id);
    expect(storedThreadName(old.ctx, row!)).toBe('renamed');
    expect(row!.title).toBe('renamed');

    const current = await open(makeTempDir(), '0.169.0');
    const paginated = sampleThread({ historyMode: 'paginated' });
    await upsertThread(current.ctx, paginated);
    await patchThreadMetadata(current.ctx, paginated.id, { name: 'renamed' });
    const paginatedRow = await getThread(current.ctx, paginated.id);
    expect(storedThreadName(current.ctx, paginatedRow!)).toBe('renamed');
    expect(paginatedRow!.name).toBe('renamed');
    expect(paginatedRow!.title).not.toBe('renamed');
  });
});
