import { makeTempDir } from '@skein/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeThreadCursor,
  deleteThread,
  findRolloutPathById,
  getThread,
  insertThreadIfAbsent,
  listChildThreads,
  listDescendantThreads,
  listThreads,
  newThreadId,
  patchThreadMetadata,
  StateRuntime,
  setThreadArchived,
  type ThreadMetadata,
  type ThreadSortKey,
  TimestampAllocator,
  touchThreadUpdatedAt,
  upsertThread,
} from '../src/index.js';
import { sampleThread } from './helpers.js';

const SCHEMAS = ['0.131.0', '0.169.0'] as const;

describe.each(SCHEMAS)('on a Codex %s state DB', (schema) => {
  let runtime: StateRuntime;
  /** 0.169 keeps names, recency and history mode in columns of their own; 0.131 has none. */
  const modern = schema === '0.169.0';
  beforeEach(async () => {
    runtime = await StateRuntime.open({ sqliteHome: makeTempDir(), createSchema: schema });
  });
  afterEach(async () => {
    await runtime.close();
  });

  describe('TimestampAllocator', () => {
    it('keeps new and old candidates, moves the hot second past the mark', () => {
      const clock = new TimestampAllocator(10_000);
      expect(clock.allocate(20_000)).toBe(20_000);
      expect(clock.allocate(20_000)).toBe(20_001);
      expect(clock.allocate(19_500)).toBe(20_002);
      expect(clock.allocate(19_000)).toBe(19_000); // >= 1 s older: a backfilled time, kept
      expect(clock.highWaterMark).toBe(20_002);
    });
  });

  describe('upsert', () => {
    it('gives three same-moment upserts unique increasing updated_at_ms, and keeps old times', async () => {
      const now = Date.now();
      const threads = [0, 1, 2].map(() => sampleThread({ updatedAtMs: now }));
      for (const t of threads) await upsertThread(runtime.ctx, t);
      const stored = await Promise.all(threads.map((t) => getThread(runtime.ctx, t.id)));
      expect(stored.map((t) => t?.updatedAtMs)).toEqual([now, now + 1, now + 2]);
      expect(stored.map((t) => t?.recencyAtMs)).toEqual([now, now + 1, now + 2]);
      const old = sampleThread({ updatedAtMs: now - 60_000 });
      await upsertThread(runtime.ctx, old);
      expect((await getThread(runtime.ctx, old.id))?.updatedAtMs).toBe(now - 60_000);
    });

    it('seeds the clock from the stored maximum at open', async () => {
      const future = Date.now() + 3_600_000;
      await upsertThread(runtime.ctx, sampleThread({ updatedAtMs: future }));
      const path = runtime.path;
      await runtime.close();
      runtime = await StateRuntime.open({ sqliteHome: path.slice(0, path.lastIndexOf('/')) });
      const next = sampleThread({ updatedAtMs: future - 10 });
      await upsertThread(runtime.ctx, next);
      expect((await getThread(runtime.ctx, next.id))?.updatedAtMs).toBe(future + 1);
    });

    it('never clears preview, keeps existing git, name and memory mode, keeps recency unless supplied', async () => {
      const base = sampleThread({
        gitSha: 'aaa',
        gitBranch: null,
        gitOriginUrl: 'https://example.com/a.git',
        memoryMode: 'disabled',
        name: 'Named',
      });
      await upsertThread(runtime.ctx, base);
      const before = (await getThread(runtime.ctx, base.id))!;
      await upsertThread(runtime.ctx, {
        ...base,
        preview: '',
        firstUserMessage: '',
        title: 'new title',
        gitSha: 'bbb',
        gitBranch: 'main',
        gitOriginUrl: null,
        memoryMode: 'enabled',
        name: null,
        model: 'gpt-x',
        updatedAtMs: base.updatedAtMs + 60_000,
        recencyAtMs: 0,
      });
      const after = (await getThread(runtime.ctx, base.id))!;
      expect(after.preview).toBe(base.preview);
      expect(after.title).toBe('new title');
      expect(after.model).toBe('gpt-x');
      expect([after.gitSha, after.gitBranch, after.gitOriginUrl]).toEqual([
        'aaa',
        'main',
        'https://example.com/a.git',
      ]);
      expect(after.memoryMode).toBe('disabled');
      // 0.131 has no name column: a name lives in its title and the session index.
      expect(after.name).toBe(modern ? 'Named' : null);
      expect(after.updatedAtMs).toBe(base.updatedAtMs + 60_000);
      // 0.131 has no recency column: the sidecar keeps it as 0.169 would after migrating.
      expect(after.recencyAtMs).toBe(before.recencyAtMs);

      await upsertThread(runtime.ctx, { ...base, recencyAtMs: before.recencyAtMs - 5_000 });
      expect((await getThread(runtime.ctx, base.id))?.recencyAtMs).toBe(before.recencyAtMs + 1);
    });

    it('keeps paginated history mode once set', async () => {
      const t = sampleThread({ historyMode: 'paginated' });
      await upsertThread(runtime.ctx, t);
      await upsertThread(runtime.ctx, { ...t, historyMode: 'legacy' });
      expect((await getThread(runtime.ctx, t.id))?.historyMode).toBe(
        modern ? 'paginated' : 'legacy',
      );
    });

    it('insert-if-absent never overwrites', async () => {
      const t = sampleThread();
      expect(await insertThreadIfAbsent(runtime.ctx, t)).toBe(true);
      expect(await insertThreadIfAbsent(runtime.ctx, { ...t, title: 'other' })).toBe(false);
      expect((await getThread(runtime.ctx, t.id))?.title).toBe(t.title);
    });

    it('writes preview from the first user message when none is given', async () => {
      const t = sampleThread({ preview: '', firstUserMessage: 'hello there' });
      await upsertThread(runtime.ctx, t);
      expect((await getThread(runtime.ctx, t.id))?.preview).toBe('hello there');
    });

    it('the bulk path sets memory mode only when asked, on insert and on conflict', async () => {
      const other = await StateRuntime.open({ sqliteHome: makeTempDir(), createSchema: schema });
      try {
        const t0 = Date.now() - 100_000;
        const a = sampleThread({ updatedAtMs: t0, memoryMode: 'disabled' });
        const b = sampleThread({ updatedAtMs: t0 });
        const steps: Array<{ meta: ThreadMetadata; mode?: 'enabled' | 'polluted' }> = [
          { meta: a },
          { meta: b, mode: 'polluted' },
          { meta: { ...a, memoryMode: 'enabled', updatedAtMs: t0 + 5 } },
          { meta: { ...a, updatedAtMs: t0 + 10 }, mode: 'polluted' },
          { meta: { ...b, updatedAtMs: t0 + 10 }, mode: 'enabled' },
        ];
        for (const step of steps) {
          // Reference: the async upsert, then the literal patch for what the step sets.
          await upsertThread(runtime.ctx, step.meta);
          if (step.mode !== undefined)
            await patchThreadMetadata(runtime.ctx, step.meta.id, { memoryMode: step.mode });
          other.upsertThreadsBatch([
            {
              metadata: step.meta,
              ...(step.mode !== undefined ? { setMemoryMode: step.mode } : {}),
            },
          ]);
        }
        for (const id of [a.id, b.id]) {
          expect(await getThread(other.ctx, id)).toEqual(await getThread(runtime.ctx, id));
        }
        expect((await getThread(other.ctx, a.id))?.memoryMode).toBe('polluted');
        expect((await getThread(other.ctx, b.id))?.memoryMode).toBe('enabled');
      } finally {
        await other.close();
      }
    });

    it('the SQLite bulk path follows the same rules as upsertThread', async () => {
      const other = await StateRuntime.open({ sqliteHome: makeTempDir(), createSchema: schema });
      try {
        const t0 = Date.now() - 100_000;
        const a = sampleThread({
          updatedAtMs: t0,
          gitSha: 'aaa',
          source: JSON.stringify({
            subagent: { thread_spawn: { parent_thread_id: newThreadId(), depth: 1 } },
          }),
        });
        const b = sampleThread({ updatedAtMs: t0, historyMode: 'paginated', name: 'B' });
        const sequence: ThreadMetadata[] = [
          a,
          b,
          { ...a, preview: '', gitSha: 'zzz', gitBranch: 'dev', title: 'A2', updatedAtMs: t0 + 10 },
          {
            ...b,
            historyMode: 'legacy',
            name: null,
            recencyAtMs: t0 - 50_000,
            archived: true,
            archivedAtMs: t0,
          },
        ];
        for (const meta of sequence) {
          await upsertThread(runtime.ctx, meta);
          other.upsertThreadsBatch([{ metadata: meta }]);
        }
        for (const id of [a.id, b.id]) {
          expect(await getThread(other.ctx, id)).toEqual(await getThread(runtime.ctx, id));
        }
        expect(
          await listChildThreads(
            other.ctx,
            JSON.parse(a.source).subagent.thread_spawn.parent_thread_id,
          ),
        ).toEqual(
          await listChildThreads(
            runtime.ctx,
            JSON.parse(a.source).subagent.thread_spawn.parent_thread_id,
          ),
        );
      } finally {
        await other.close();
      }
    });

    it('the SQLite bulk path does not write a row it would leave as it is', async () => {
      const now = Date.now();
      // A later thread first: a time near the newest one written is moved on by each upsert.
      const later = sampleThread({ updatedAtMs: now });
      const thread = sampleThread({ updatedAtMs: now - 60_000, gitSha: 'abc', preview: 'hi' });
      runtime.upsertThreadsBatch([{ metadata: later }, { metadata: thread }]);
      const changes = () => runtime.sqlite.prepare('select total_changes()').pluck().get();
      const before = changes();
      runtime.upsertThreadsBatch([{ metadata: thread }]);
      expect(changes()).toBe(before);
      runtime.upsertThreadsBatch([{ metadata: { ...thread, preview: 'changed' } }]);
      expect(changes()).toBe((before as number) + 1);
      expect((await getThread(runtime.ctx, thread.id))?.preview).toBe('changed');
    });
  });

  describe('targeted updates', () => {
    it('archives and unarchives with path and archived_at; finds the path by archived state', async () => {
      const t = sampleThread();
      await upsertThread(runtime.ctx, t);
      expect(
        await setThreadArchived(runtime.ctx, t.id, {
          archived: true,
          rolloutPath: '/x/archived.jsonl',
          archivedAtMs: 1_234_567,
        }),
      ).toBe(true);
      let row = (await getThread(runtime.ctx, t.id))!;
      // Codex keeps the archive time in seconds.
      expect([row.archived, row.archivedAtMs, row.rolloutPath]).toEqual([
        true,
        1_234_000,
        '/x/archived.jsonl',
      ]);
      expect(await findRolloutPathById(runtime.ctx, t.id, false)).toBeUndefined();
      expect(await findRolloutPathById(runtime.ctx, t.id, true)).toBe('/x/archived.jsonl');
      await setThreadArchived(runtime.ctx, t.id, { archived: false, rolloutPath: t.rolloutPath });
      row = (await getThread(runtime.ctx, t.id))!;
      expect([row.archived, row.archivedAtMs]).toEqual([false, null]);
      expect(await setThreadArchived(runtime.ctx, newThreadId(), { archived: true })).toBe(false);
    });

    it('touches updated_at with an allocated time', async () => {
      const t = sampleThread();
      await upsertThread(runtime.ctx, t);
      const now = Date.now() + 10_000;
      expect(await touchThreadUpdatedAt(runtime.ctx, t.id, now)).toBe(true);
      expect(await touchThreadUpdatedAt(runtime.ctx, t.id, now)).toBe(true);
      expect((await getThread(runtime.ctx, t.id))?.updatedAtMs).toBe(now + 1);
      expect(await touchThreadUpdatedAt(runtime.ctx, newThreadId(), now)).toBe(false);
    });

    it('applies the literal patch: memory mode, git set/partial/clear', async () => {
      const t = sampleThread({ gitSha: 'a', gitBranch: 'main', gitOriginUrl: 'u' });
      await upsertThread(runtime.ctx, t);
      await patchThreadMetadata(runtime.ctx, t.id, { memoryMode: 'disabled' });
      let row = (await getThread(runtime.ctx, t.id))!;
      expect(row.memoryMode).toBe('disabled');
      await patchThreadMetadata(runtime.ctx, t.id, { git: { branch: 'feature' } });
      row = (await getThread(runtime.ctx, t.id))!;
      expect([row.gitSha, row.gitBranch, row.gitOriginUrl]).toEqual(['a', 'feature', 'u']);
      await patchThreadMetadata(runtime.ctx, t.id, { git: { sha: null } });
      row = (await getThread(runtime.ctx, t.id))!;
      expect([row.gitSha, row.gitBranch, row.gitOriginUrl]).toEqual([null, 'feature', 'u']);
      await patchThreadMetadata(runtime.ctx, t.id, { git: null });
      row = (await getThread(runtime.ctx, t.id))!;
      expect([row.gitSha, row.gitBranch, row.gitOriginUrl]).toEqual([null, null, null]);
      expect(row.title).toBe(t.title);
      expect(await patchThreadMetadata(runtime.ctx, newThreadId(), { memoryMode: 'enabled' })).toBe(
        false,
      );
      expect(await patchThreadMetadata(runtime.ctx, t.id, {})).toBe(true);
    });

    it('stores every time as an integer, as Codex does, through each write path', async () => {
      // JS numbers bind as REALs: a fractional ms time or a division must not leave one behind.
      const now = Date.now() + 0.625;
      const t = sampleThread({ updatedAtMs: now, recencyAtMs: now, createdAtMs: now - 5_000.5 });
      await upsertThread(runtime.ctx, t);
      await upsertThread(runtime.ctx, { ...t, recencyAtMs: now + 2_000.25 });
      await patchThreadMetadata(runtime.ctx, t.id, { advanceRecencyAtMs: now + 4_000.5 });
      const batched = sampleThread({ updatedAtMs: now + 0.5, recencyAtMs: now + 0.5 });
      runtime.upsertThreadsBatch([
        { metadata: batched },
        { metadata: { ...batched, recencyAtMs: now + 3_000.75 } },
      ]);
      await setThreadArchived(runtime.ctx, batched.id, {
        archived: true,
        archivedAtMs: now + 6_000.5,
        updatedAtMs: now + 6_000.5,
      });
      const timeColumns = [
        'created_at',
        'updated_at',
        'created_at_ms',
        'updated_at_ms',
        'archived_at',
        ...(modern ? ['recency_at', 'recency_at_ms'] : []),
      ];
      const types = runtime.sqlite
        .prepare(
          `select ${timeColumns.map((c) => `typeof(${c}) as ${c}`).join(', ')} from threads where id in (?, ?)`,
        )
        .all(t.id, batched.id) as Record<string, string>[];
      expect(types).toHaveLength(2);
      for (const row of types) {
        for (const [column, type] of Object.entries(row)) {
          if (type !== 'null') expect(`${column} ${type}`).toBe(`${column} integer`);
        }
      }
    });

    it('puts a name where Codex keeps it: `name` for paginated 0.169 threads, else the title', async () => {
      const legacy = sampleThread();
      const paginated = sampleThread({ historyMode: 'paginated' });
      for (const t of [legacy, paginated]) {
        await upsertThread(runtime.ctx, t);
        await patchThreadMetadata(runtime.ctx, t.id, { name: 'Renamed' });
      }
      const l = (await getThread(runtime.ctx, legacy.id))!;
      expect([l.name, l.title]).toEqual([null, 'Renamed']);
      const p = (await getThread(runtime.ctx, paginated.id))!;
      expect([p.name, p.title]).toEqual(modern ? ['Renamed', paginated.title] : [null, 'Renamed']);
      expect(await patchThreadMetadata(runtime.ctx, newThreadId(), { name: 'x' })).toBe(false);
    });

    it('records spawn edges from thread_spawn sources; lists children and all descendants; delete drops edges', async () => {
      const root = sampleThread();
      const spawn = (parent: string) =>
        sampleThread({
          source: JSON.stringify({
            subagent: { thread_spawn: { parent_thread_id: parent, depth: 1 } },
          }),
        });
      const child1 = spawn(root.id);
      const child2 = spawn(root.id);
      const grandchild = spawn(child1.id);
      for (const t of [grandchild, root, child1, child2]) await upsertThread(runtime.ctx, t);
      expect((await listChildThreads(runtime.ctx, root.id)).map((e) => e.childId).sort()).toEqual(
        [child1.id, child2.id].sort(),
      );
      const all = await listDescendantThreads(runtime.ctx, root.id);
      expect(all.map((e) => [e.childId, e.depth]).sort()).toEqual(
        [
          [child1.id, 1],
          [child2.id, 1],
          [grandchild.id, 2],
        ].sort(),
      );
      expect(await deleteThread(runtime.ctx, child1.id)).toBe(true);
      expect(await getThread(runtime.ctx, child1.id)).toBeUndefined();
      expect((await listDescendantThreads(runtime.ctx, root.id)).map((e) => e.childId)).toEqual([
        child2.id,
      ]);
      expect(await deleteThread(runtime.ctx, child1.id)).toBe(false);
    });
  });

  describe('listThreads', () => {
    const threads: ThreadMetadata[] = [];
    beforeEach(async () => {
      threads.length = 0;
      const base = Date.UTC(2025, 5, 1);
      for (let i = 0; i < 40; i += 1) {
        threads.push(
          sampleThread({
            createdAtMs: base + Math.floor(i / 3) * 1000, // ties in created_at: the id breaks them
            updatedAtMs: base + 500_000 - i * 7_000,
            recencyAtMs: base + 900_000 + ((i * 13) % 40) * 2_000,
            cwd: `/p/${i % 3}`,
            source: i % 4 === 0 ? 'exec' : 'cli',
            modelProvider: i % 5 === 0 ? 'other' : 'openai',
            archived: i % 10 === 9,
            preview: i === 7 ? '' : `msg ${i} ${i % 2 === 0 ? 'Even' : 'odd'} Preview-only`,
            title: i === 7 ? '' : `msg ${i} ${i % 2 === 0 ? 'Even' : 'odd'}`,
            firstUserMessage: i === 7 ? '' : `msg ${i}`,
            name: i === 11 ? 'Special Even' : null,
          }),
        );
      }
      for (const t of threads) await upsertThread(runtime.ctx, t);
    });

    function expected(
      sortKey: ThreadSortKey,
      dir: 'asc' | 'desc',
      keep: (t: ThreadMetadata) => boolean,
    ): string[] {
      const key = (t: ThreadMetadata) =>
        sortKey === 'createdAt'
          ? t.createdAtMs
          : sortKey === 'updatedAt'
            ? t.updatedAtMs
            : t.recencyAtMs;
      const sorted = threads
        .filter((t) => !t.archived && t.preview !== '' && keep(t))
        .sort((a, b) => key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (dir === 'desc') sorted.reverse();
      return sorted.map((t) => t.id);
    }

    async function pageThrough(params: Parameters<typeof listThreads>[1]): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 100; guard += 1) {
        const page = await listThreads(runtime.ctx, { ...params, cursor });
        ids.push(...page.items.map((t) => t.id));
        if (!page.nextCursor) return ids;
        cursor = page.nextCursor;
      }
      throw new Error('did not terminate');
    }

    for (const sortKey of ['createdAt', 'updatedAt', 'recencyAt'] as const) {
      for (const dir of ['asc', 'desc'] as const) {
        it(`pages by ${sortKey} ${dir} without gaps or duplicates`, async () => {
          expect(await pageThrough({ pageSize: 7, sortKey, sortDirection: dir })).toEqual(
            expected(sortKey, dir, () => true),
          );
        });
      }
    }

    it('answers each page size with its own size, whatever sizes came before', async () => {
      const all = expected('createdAt', 'desc', () => true);
      for (const pageSize of [2, 5, 1, 5, 2, 30, 3]) {
        const page = await listThreads(runtime.ctx, { pageSize });
        expect(page.items.map((t) => t.id)).toEqual(all.slice(0, pageSize));
        expect(page.nextCursor === null).toBe(pageSize >= all.length);
      }
    });

    it('goes back a page with the backwards cursor', async () => {
      const first = await listThreads(runtime.ctx, { pageSize: 5 });
      const second = await listThreads(runtime.ctx, { pageSize: 5, cursor: first.nextCursor });
      const back = await listThreads(runtime.ctx, {
        pageSize: 5,
        cursor: second.backwardsCursor,
        sortDirection: 'asc',
      });
      expect(back.items.map((t) => t.id).reverse()).toEqual(first.items.map((t) => t.id));
      expect(decodeThreadCursor(second.backwardsCursor!)?.threadId).toBe(second.items[0]!.id);
    });

    it('filters by archived, sources, providers, cwd list and search term', async () => {
      const ids = async (extra: Partial<Parameters<typeof listThreads>[1]>) =>
        (await listThreads(runtime.ctx, { pageSize: 100, ...extra })).items.map((t) => t.id);
      expect(await ids({ archived: true })).toEqual(
        threads
          .filter((t) => t.archived)
          .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1))
          .map((t) => t.id),
      );
      expect(await ids({ sources: ['exec'] })).toEqual(
        expected('createdAt', 'desc', (t) => t.source === 'exec'),
      );
      expect(await ids({ sources: [] })).toEqual(expected('createdAt', 'desc', () => true));
      expect(await ids({ modelProviders: ['other'] })).toEqual(
        expected('createdAt', 'desc', (t) => t.modelProvider === 'other'),
      );
      expect(await ids({ cwds: ['/p/1', '/p/2'] })).toEqual(
        expected('createdAt', 'desc', (t) => t.cwd !== '/p/0'),
      );
      expect(await ids({ cwds: [] })).toEqual([]);
      expect(await ids({ searchTerm: 'Even' })).toEqual(
        expected(
          'createdAt',
          'desc',
          (t) => t.title.includes('Even') || (modern && (t.name ?? '').includes('Even')),
        ),
      );
      // The preview is searched too, as 0.169 searches its DB.
      expect(await ids({ searchTerm: 'Preview-only' })).toEqual(
        expected('createdAt', 'desc', (t) => t.preview.includes('Preview-only')),
      );
      expect(await ids({ searchTerm: 'even' })).toEqual([]); // case-sensitive
      const hidden = threads[7]!;
      expect(await ids({})).not.toContain(hidden.id);
      expect(await ids({ includeHidden: true })).toContain(hidden.id);
    });

    it('rejects a garbage cursor with InvalidCursor', async () => {
      await expect(listThreads(runtime.ctx, { pageSize: 5, cursor: 'nope' })).rejects.toMatchObject(
        {
          code: 'InvalidCursor',
        },
      );
      await expect(
        listThreads(runtime.ctx, { pageSize: 5, cursor: '2025-01-01T00:00:00Z|not-a-uuid' }),
      ).rejects.toMatchObject({
        code: 'InvalidCursor',
      });
    });
  });
});
