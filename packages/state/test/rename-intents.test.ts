import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { makeTempDir } from '@skein/test-support';
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
