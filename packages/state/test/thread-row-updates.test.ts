import { makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  getThread,
  patchThreadMetadata,
  type StateContext,
  StateRuntime,
  setThreadArchived,
  type ThreadRowPatch,
  touchThreadUpdatedAt,
  upsertThread,
  writeTransaction,
} from '../src/index.js';
import { sampleThread } from './helpers.js';

const SCHEMAS = ['0.131.0', '0.169.0'] as const;

const runtimes: StateRuntime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
});

async function openRuntime(schema: string): Promise<StateRuntime> {
  const runtime = await StateRuntime.open({ sqliteHome: makeTempDir(), createSchema: schema });
  runtimes.push(runtime);
  return runtime;
}

/** The runtime's context without the prepared-statement path: every update through Kysely. */
function generalContext(runtime: StateRuntime): StateContext {
  const { rowUpdates: _rowUpdates, ...general } = runtime.ctx;
  return general;
}

/** Every column of the row, with each value's SQLite type (an integer must stay one). */
function storedRow(runtime: StateRuntime, id: string): Record<string, unknown> {
  const row = runtime.sqlite.prepare('select * from threads where id = ?').get(id) as Record<
    string,
    unknown
  >;
  const types = Object.fromEntries(
    Object.keys(row).map((column) => [
      `typeof ${column}`,
      runtime.sqlite
        .prepare(`select typeof("${column}") from threads where id = ?`)
        .pluck()
        .get(id),
    ]),
  );
  return { ...row, ...types };
}

describe.each(SCHEMAS)('small row updates on a Codex %s state DB', (schema) => {
  it('leave the same row as the general path, for the same patches', async () => {
    const fast = await openRuntime(schema);
    const general = await openRuntime(schema);
    const now = Date.now();
    const thread = sampleThread({ gitSha: 'a', gitBranch: 'main', gitOriginUrl: 'u' });
    for (const runtime of [fast, general]) await upsertThread(runtime.ctx, thread);
    const patches: ThreadRowPatch[] = [
      { updatedAtMs: now + 1_000 },
      { updatedAtMs: now + 1_000 },
      { updatedAtMs: now + 1_500.75 },
      { title: 'A title' },
      { memoryMode: 'disabled' },
      { git: { branch: 'feature' } },
      { git: { sha: null } },
      { model: 'gpt-5', reasoningEffort: null, updatedAtMs: now + 2_000 },
      { tokensUsed: 1234.9 },
      { cwd: '/w/other', cliVersion: '0.2.0', approvalMode: 'never' },
      { createdAtMs: now - 10_000.5 },
      { rolloutPath: '/moved/rollout.jsonl' },
      { preview: '' },
      { firstUserMessage: 'first words' },
      { advanceRecencyAtMs: now + 3_000 },
      { name: 'Renamed' },
      { git: null },
      { sandboxPolicy: '{"type":"read-only"}' },
      {},
    ];
    const generalCtx = generalContext(general);
    const runsBefore = fast.ctx.rowUpdates?.runs ?? 0;
    for (const patch of patches) {
      expect(await patchThreadMetadata(fast.ctx, thread.id, patch)).toBe(
        await patchThreadMetadata(generalCtx, thread.id, patch),
      );
      expect(storedRow(fast, thread.id)).toEqual(storedRow(general, thread.id));
    }
    expect(await touchThreadUpdatedAt(fast.ctx, thread.id, now + 4_000)).toBe(
      await touchThreadUpdatedAt(generalCtx, thread.id, now + 4_000),
    );
    const archive = { archived: true, archivedAtMs: now + 5_000.5, updatedAtMs: now + 5_000 };
    expect(await setThreadArchived(fast.ctx, thread.id, archive)).toBe(
      await setThreadArchived(generalCtx, thread.id, archive),
    );
    expect(storedRow(fast, thread.id)).toEqual(storedRow(general, thread.id));
    expect(await getThread(fast.ctx, thread.id)).toEqual(await getThread(general.ctx, thread.id));
    // The plain-valued updates took the prepared path; the general side never did.
    expect((fast.ctx.rowUpdates?.runs ?? 0) - runsBefore).toBeGreaterThanOrEqual(12);
    expect(general.ctx.rowUpdates?.runs).toBe(0);
    // An unknown thread: false on both paths.
    const missing = sampleThread().id;
    expect(await touchThreadUpdatedAt(fast.ctx, missing, now)).toBe(false);
    expect(await patchThreadMetadata(fast.ctx, missing, { title: 'x' })).toBe(false);
  });

  it('an update beside an open write transaction waits for it instead of joining it', async () => {
    const runtime = await openRuntime(schema);
    const thread = sampleThread();
    await upsertThread(runtime.ctx, thread);
    const stamped = Date.now() + 60_000;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const rolledBack = writeTransaction(runtime.ctx, async (trx) => {
      await patchThreadMetadata({ ...runtime.ctx, db: trx }, thread.id, { title: 'rolled back' });
      inside();
      await held;
      throw new Error('roll back');
    }).catch((error: Error) => error.message);
    await opened;
    const runsBefore = runtime.ctx.rowUpdates?.runs;
    // Run while the transaction is open: had it joined, the rollback would undo it.
    const touched = touchThreadUpdatedAt(runtime.ctx, thread.id, stamped);
    release();
    expect(await rolledBack).toBe('roll back');
    expect(await touched).toBe(true);
    const row = await getThread(runtime.ctx, thread.id);
    expect(row?.title).toBe(thread.title);
    expect(row?.updatedAtMs).toBe(stamped);
    expect(runtime.ctx.rowUpdates?.runs).toBe(runsBefore);
  });
});
