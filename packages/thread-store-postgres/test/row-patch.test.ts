/**
 * One patch rule for both dialects: state's `patchThreadMetadata` is the only place a metadata
 * patch becomes columns, for a Codex 0.169 SQLite DB and for this store's PostgreSQL schema.
 * The same patches applied to the same row on each must read back as the same thread, and
 * `applyThreadRowPatch` (the in-memory form the local store uses before an upsert) must agree.
 * The upsert on both skips a row it would leave as it is.
 */
import {
  applyThreadRowPatch,
  createStateContext,
  defaultThreadMetadata,
  getThread,
  newThreadId,
  patchThreadMetadata,
  type StateContext,
  type StateDatabase,
  StateRuntime,
  type ThreadMetadata,
  type ThreadRowPatch,
  upsertThread,
} from '@skein/state';
import { makeTempDir, type PostgresServer, startPostgres } from '@skein/test-support';
import { threadRowPatchOf } from '@skein/thread-store';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresThreadStore } from '../src/index.js';

let server: PostgresServer;
let sqlite: StateRuntime;
let postgres: StateContext;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startPostgres();
  const url = await server.createDatabase();
  // Opening the store migrates the database: the state schema plus the store's tables.
  const store = await PostgresThreadStore.open({ connectionString: url });
  await store.close();
  const db = new Kysely<StateDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
  });
  cleanups.push(() => db.destroy());
  postgres = createStateContext(db);
  sqlite = await StateRuntime.open({ sqliteHome: makeTempDir(), createSchema: '0.169.0' });
  cleanups.push(() => sqlite.close());
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.stop();
});

const BASE_MS = Date.UTC(2026, 0, 2, 3, 4, 5);

function freshThread(): ThreadMetadata {
  const id = newThreadId(BASE_MS);
  return {
    ...defaultThreadMetadata(
      id,
      `/home/dev/.codex/sessions/rollout-${id}.jsonl`,
      BASE_MS,
      'cli',
      'openai',
    ),
    cwd: '/home/dev/project',
    title: 'first words',
    preview: '',
    firstUserMessage: '',
    historyMode: 'paginated',
  };
}

/** The facts a patch decides; times are allocated per connection, so they are compared apart. */
function facts(meta: ThreadMetadata | undefined) {
  if (meta === undefined) return undefined;
  const { updatedAtMs: _u, recencyAtMs: _r, sandboxPolicyLegacy: _l, ...rest } = meta;
  return rest;
}

const STEPS: { what: string; patch: ThreadRowPatch }[] = [
  {
    what: 'the first message is also the preview of a row without one',
    patch: { firstUserMessage: 'hello there' },
  },
  { what: 'an empty preview never clears one', patch: { preview: '' } },
  { what: 'a name', patch: { name: 'Renamed' } },
  {
    what: 'observed facts from a store patch',
    patch: threadRowPatchOf({
      model: 'gpt-5',
      modelProvider: 'local',
      reasoningEffort: 'high',
      source: { subagent: 'review' },
      approvalMode: 'never',
      permissionProfile: { type: 'danger-full-access' },
      tokenUsage: {
        inputTokens: 10,
        cachedInputTokens: 0,
        outputTokens: 5,
        reasoningOutputTokens: 0,
        totalTokens: 15.7,
      },
      agentNickname: 'scout',
      cliVersion: '0.169.0',
      createdAtMs: BASE_MS - 60_000,
    }),
  },
  { what: 'git field by field', patch: { git: { sha: 'abc123', branch: 'main' } } },
  { what: 'a git clear of one field', patch: { git: { branch: null } } },
  { what: 'a history mode never goes back from paginated', patch: { historyMode: 'legacy' } },
  { what: 'memory mode and a clear of the name', patch: { memoryMode: 'disabled', name: null } },
  { what: 'a preview replaces', patch: { preview: 'a better preview', cwd: '/elsewhere' } },
  { what: 'git cleared whole', patch: { git: null } },
];

describe('patchThreadMetadata on SQLite (Codex 0.169) and PostgreSQL', () => {
  it('leaves the same thread on both after every step, as the in-memory rule predicts', async () => {
    const thread = freshThread();
    await upsertThread(sqlite.ctx, thread);
    await upsertThread(postgres, thread);
    let predicted: ThreadMetadata = thread;
    for (const step of STEPS) {
      expect(await patchThreadMetadata(sqlite.ctx, thread.id, step.patch), step.what).toBe(true);
      expect(await patchThreadMetadata(postgres, thread.id, step.patch), step.what).toBe(true);
      predicted = applyThreadRowPatch(predicted, step.patch);
      const onSqlite = facts(await getThread(sqlite.ctx, thread.id));
      const onPostgres = facts(await getThread(postgres, thread.id));
      expect(onPostgres, step.what).toEqual(onSqlite);
      expect(onSqlite, step.what).toEqual(facts(predicted));
    }
    const final = await getThread(postgres, thread.id);
    // The steps did what they say (a patch that wrote nothing would pass the comparisons).
    expect(final).toMatchObject({
      preview: 'a better preview',
      firstUserMessage: 'hello there',
      name: null,
      model: 'gpt-5',
      source: '{"subagent":"review"}',
      sandboxPolicy: '{"type":"danger-full-access"}',
      tokensUsed: 15,
      createdAtMs: BASE_MS - 60_000,
      historyMode: 'paginated',
      memoryMode: 'disabled',
      cwd: '/elsewhere',
      gitSha: null,
      gitBranch: null,
    });
  });

  it('answers false for a row that does not exist, on both', async () => {
    const missing = newThreadId();
    expect(await patchThreadMetadata(sqlite.ctx, missing, { name: 'x' })).toBe(false);
    expect(await patchThreadMetadata(postgres, missing, { name: 'x' })).toBe(false);
  });
});

describe('upsertThread of a row it would leave as it is, on SQLite and PostgreSQL', () => {
  it('writes nothing, and still writes a row it changes', async () => {
    const thread: ThreadMetadata = { ...freshThread(), gitSha: 'abc123', preview: 'hello' };
    // A later thread first: a time near the newest one written is moved on by each upsert.
    const later: ThreadMetadata = { ...freshThread(), updatedAtMs: BASE_MS + 60_000 };
    for (const ctx of [sqlite.ctx, postgres]) {
      await upsertThread(ctx, later);
      await upsertThread(ctx, thread);
    }
    const sqliteChanges = () => sqlite.sqlite.prepare('select changes()').pluck().get();
    // PostgreSQL gives every version of a row a new xmin: an update that ran shows in it.
    const postgresVersion = async () =>
      (
        await sql<{
          xmin: string;
        }>`select xmin::text as xmin from threads where id = ${thread.id}`.execute(postgres.db)
      ).rows[0]?.xmin;
    const version = await postgresVersion();
    expect(version).toBeDefined();

    await upsertThread(sqlite.ctx, thread);
    expect(sqliteChanges()).toBe(0);
    await upsertThread(postgres, thread);
    expect(await postgresVersion()).toBe(version);

    const changed: ThreadMetadata = { ...thread, model: 'gpt-5-codex' };
    await upsertThread(sqlite.ctx, changed);
    expect(sqliteChanges()).toBe(1);
    await upsertThread(postgres, changed);
    expect(await postgresVersion()).not.toBe(version);
    for (const ctx of [sqlite.ctx, postgres]) {
      expect(await getThread(ctx, thread.id)).toMatchObject({
        model: 'gpt-5-codex',
        gitSha: 'abc123',
      });
    }
  });
});
