import { rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  findThreadPath,
  isRolloutError,
  type ListThreadsOptions,
  listThreadsFromFiles,
  type ThreadListItem,
} from '../src/index.js';
import { sessionMetaLine, userMessageLine, writeRolloutFile, zstdStore } from './helpers.js';

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function writeThread(
  home: string,
  id: string,
  fileTs: string,
  options: {
    meta?: Record<string, unknown>;
    lines?: Array<string | object>;
    torn?: string;
    dir?: string;
  } = {},
): string {
  const [date] = fileTs.split('T') as [string];
  const [y, m, d] = date.split('-');
  const dir = options.dir ?? join(home, 'sessions', y as string, m as string, d as string);
  const path = join(dir, `rollout-${fileTs}-${id}.jsonl`);
  writeRolloutFile(
    path,
    options.lines ?? [
      sessionMetaLine(id, options.meta ?? {}),
      userMessageLine(`msg ${id.slice(-4)}`),
    ],
    options.torn === undefined ? {} : { torn: options.torn },
  );
  return path;
}

async function pages(home: string, options: Omit<ListThreadsOptions, 'cursor'>) {
  const seen: ThreadListItem[] = [];
  const cursors: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i += 1) {
    const page = await listThreadsFromFiles(home, { ...options, cursor });
    expect(page.items.length).toBeLessThanOrEqual(options.pageSize);
    seen.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) break;
    cursors.push(cursor);
  }
  return { ids: seen.map((i) => i.threadId), cursors, items: seen };
}

describe('filesystem listing', () => {
  it('pages same-second threads by (ts, uuid) without skips or repeats, both directions', async () => {
    const home = makeTempDir();
    const ids: string[] = [];
    for (let i = 1; i <= 7; i += 1) {
      ids.push(uuid(i));
      writeThread(home, uuid(i), '2025-01-03T12-00-00');
    }
    writeThread(home, uuid(20), '2025-01-02T08-00-00');
    writeThread(home, uuid(21), '2025-01-04T08-00-00');
    const expectedDesc = [uuid(21), ...[...ids].reverse(), uuid(20)];
    for (const pageSize of [1, 2, 3, 4]) {
      const desc = await pages(home, { pageSize, allowedSources: [] });
      expect(desc.ids).toEqual(expectedDesc);
      const asc = await pages(home, { pageSize, allowedSources: [], sortDirection: 'asc' });
      expect(asc.ids).toEqual([...expectedDesc].reverse());
    }
    const first = await listThreadsFromFiles(home, { pageSize: 2, allowedSources: [] });
    expect(first.nextCursor).toBe(`2025-01-03T12:00:00Z|${uuid(7)}`);
  });

  it('backwards cursors return the items before a page, in both directions', async () => {
    const home = makeTempDir();
    for (let i = 1; i <= 5; i += 1) writeThread(home, uuid(i), '2025-01-03T12-00-00');
    writeThread(home, uuid(9), '2025-01-04T12-00-00');
    const first = await listThreadsFromFiles(home, { pageSize: 2, allowedSources: [] });
    const second = await listThreadsFromFiles(home, {
      pageSize: 2,
      allowedSources: [],
      cursor: first.nextCursor,
    });
    expect(second.items.map((i) => i.threadId)).toEqual([uuid(4), uuid(3)]);
    const back = await listThreadsFromFiles(home, {
      pageSize: 10,
      allowedSources: [],
      sortDirection: 'asc',
      cursor: second.backwardsCursor,
    });
    expect(back.items.map((i) => i.threadId)).toEqual([uuid(5), uuid(9)]);
    for (const sortKey of ['createdAt', 'updatedAt'] as const) {
      const asc = await listThreadsFromFiles(home, {
        pageSize: 3,
        allowedSources: [],
        sortKey,
        sortDirection: 'asc',
      });
      const before = await listThreadsFromFiles(home, {
        pageSize: 10,
        allowedSources: [],
        sortKey,
        sortDirection: 'desc',
        cursor: asc.backwardsCursor,
      });
      expect(before.items).toEqual([]);
    }
  });

  it('updated_at is the file mtime and orders updated listings (uuid tie-break)', async () => {
    const home = makeTempDir();
    const a = writeThread(home, uuid(1), '2025-01-01T00-00-00');
    const b = writeThread(home, uuid(2), '2025-01-02T00-00-00');
    const c = writeThread(home, uuid(3), '2025-01-03T00-00-00');
    utimesSync(a, 2000, 2000.5);
    utimesSync(b, 1000, 1000.25);
    utimesSync(c, 2000, 2000.5);
    const page = await listThreadsFromFiles(home, {
      pageSize: 10,
      sortKey: 'updatedAt',
      allowedSources: [],
    });
    expect(page.items.map((i) => i.threadId)).toEqual([uuid(3), uuid(1), uuid(2)]);
    expect(page.items.map((i) => i.updatedAtMs)).toEqual([2000500, 2000500, 1000250]);
    expect(page.items[0]?.updatedAt).toBe('1970-01-01T00:33:20.500Z');
    const paged = await pages(home, { pageSize: 1, sortKey: 'updatedAt', allowedSources: [] });
    expect(paged.ids).toEqual([uuid(3), uuid(1), uuid(2)]);
    const asc = await pages(home, {
      pageSize: 1,
      sortKey: 'updatedAt',
      sortDirection: 'asc',
      allowedSources: [],
    });
    expect(asc.ids).toEqual([uuid(2), uuid(1), uuid(3)]);
  });

  it('orders an updated listing by every file mtime, past one slice of stats', async () => {
    // The stats run in slices of 1,024 files with the event loop let run between them: the
    // newest file by name is the oldest by mtime, so any file stat'ed wrong or left unstamped
    // shows in the order.
    const home = makeTempDir();
    const count = 1_100;
    for (let i = 0; i < count; i += 1) {
      const second = String(i % 60).padStart(2, '0');
      const minute = String(Math.floor(i / 60)).padStart(2, '0');
      const path = writeThread(home, uuid(i + 1), `2025-01-01T00-${minute}-${second}`);
      utimesSync(path, 10_000 - i, 10_000 - i);
    }
    const newest = await listThreadsFromFiles(home, {
      pageSize: 3,
      sortKey: 'updatedAt',
      allowedSources: [],
    });
    expect(newest.items.map((i) => i.threadId)).toEqual([uuid(1), uuid(2), uuid(3)]);
    const oldest = await listThreadsFromFiles(home, {
      pageSize: 100,
      sortKey: 'updatedAt',
      sortDirection: 'asc',
      allowedSources: [],
    });
    expect(oldest.items.map((i) => i.threadId)).toEqual(
      Array.from({ length: 100 }, (_, k) => uuid(count - k)),
    );
    expect(oldest.items.map((i) => i.updatedAtMs)).toEqual(
      Array.from({ length: 100 }, (_, k) => (10_000 - (count - 1 - k)) * 1000),
    );
  });

  it('hides threads without user message; lists torn, late and compressed ones', async () => {
    const home = makeTempDir();
    writeThread(home, uuid(1), '2025-01-01T00-00-00', { lines: [sessionMetaLine(uuid(1))] });
    writeThread(home, uuid(2), '2025-01-01T00-00-01', {
      lines: [sessionMetaLine(uuid(2)), userMessageLine('torn but fine')],
      torn: '{"timestamp":"x","type":"event_m',
    });
    const late: Array<string | object> = [sessionMetaLine(uuid(3))];
    for (let i = 0; i < 12; i += 1)
      late.push({
        timestamp: 'x',
        type: 'response_item',
        payload: { type: 'message', role: 'user', content: [] },
      });
    late.push(userMessageLine('after twelve'));
    writeThread(home, uuid(3), '2025-01-01T00-00-02', { lines: late });
    const zstPath = writeThread(home, uuid(4), '2025-01-01T00-00-03');
    const plainShadow = writeThread(home, uuid(5), '2025-01-01T00-00-04');
    const { readFileSync, rmSync } = await import('node:fs');
    writeFileSync(`${zstPath}.zst`, zstdStore(readFileSync(zstPath)));
    rmSync(zstPath);
    writeFileSync(`${plainShadow}.zst`, zstdStore(Buffer.from('garbage that would fail')));
    const page = await listThreadsFromFiles(home, { pageSize: 10, allowedSources: [] });
    const byId = new Map<string, (typeof page.items)[number]>(
      page.items.map((i) => [i.threadId, i]),
    );
    expect(byId.has(uuid(1))).toBe(false);
    expect(byId.get(uuid(2))?.preview).toBe('torn but fine');
    expect(byId.get(uuid(3))?.preview).toBe('after twelve');
    expect(byId.get(uuid(4))?.path).toBe(`${zstPath}.zst`);
    expect(byId.get(uuid(5))?.path).toBe(plainShadow);
    expect(page.items).toHaveLength(4);
    expect(await findThreadPath(home, uuid(4))).toBe(`${zstPath}.zst`);
  });

  it('filters by source (interactive by default) and provider', async () => {
    const home = makeTempDir();
    writeThread(home, uuid(1), '2025-01-01T00-00-01', { meta: { source: 'cli' } });
    writeThread(home, uuid(2), '2025-01-01T00-00-02', { meta: { source: 'exec' } });
    writeThread(home, uuid(3), '2025-01-01T00-00-03', { meta: { source: { subagent: 'review' } } });
    writeThread(home, uuid(4), '2025-01-01T00-00-04', {
      meta: { source: 'vscode', model_provider: 'other' },
    });
    writeThread(home, uuid(5), '2025-01-01T00-00-05', {
      meta: { source: 'vscode', model_provider: null },
    });
    const ids = async (options: Omit<ListThreadsOptions, 'pageSize'>) =>
      (await listThreadsFromFiles(home, { pageSize: 10, ...options })).items
        .map((i) => i.threadId)
        .sort();
    expect(await ids({})).toEqual([uuid(1), uuid(4), uuid(5)]);
    expect(await ids({ allowedSources: [] })).toHaveLength(5);
    expect(await ids({ allowedSources: [{ subagent: 'review' }] })).toEqual([uuid(3)]);
    expect(
      await ids({ allowedSources: [], modelProviders: ['openai'], defaultProvider: 'openai' }),
    ).toEqual([uuid(1), uuid(2), uuid(3), uuid(5)]);
    expect(
      await ids({ allowedSources: [], modelProviders: ['openai'], defaultProvider: 'x' }),
    ).toEqual([uuid(1), uuid(2), uuid(3)]);
  });

  it('matches cwd filters after normalization (symlinks, trailing slash)', async () => {
    const home = makeTempDir();
    const real = makeTempDir();
    const link = join(makeTempDir(), 'link');
    symlinkSync(real, link);
    writeThread(home, uuid(1), '2025-01-01T00-00-01', { meta: { cwd: real } });
    writeThread(home, uuid(2), '2025-01-01T00-00-02', { meta: { cwd: '/elsewhere' } });
    const viaLink = await listThreadsFromFiles(home, {
      pageSize: 10,
      cwdFilters: [link],
      allowedSources: [],
    });
    expect(viaLink.items.map((i) => i.threadId)).toEqual([uuid(1)]);
    const slash = await listThreadsFromFiles(home, {
      pageSize: 10,
      cwdFilters: [`${real}/`],
      allowedSources: [],
    });
    expect(slash.items.map((i) => i.threadId)).toEqual([uuid(1)]);
  });

  it('resolves a linked cwd afresh in each listing', async () => {
    const home = makeTempDir();
    const [first, second] = [makeTempDir(), makeTempDir()];
    const link = join(makeTempDir(), 'link');
    symlinkSync(first, link);
    // Two threads in the linked cwd: the second is decided by what the first one resolved.
    writeThread(home, uuid(1), '2025-01-01T00-00-01', { meta: { cwd: link } });
    writeThread(home, uuid(2), '2025-01-01T00-00-02', { meta: { cwd: link } });
    const inCwd = async (cwd: string) =>
      (
        await listThreadsFromFiles(home, { pageSize: 10, cwdFilters: [cwd], allowedSources: [] })
      ).items.map((i) => i.threadId);
    expect(await inCwd(first as string)).toEqual([uuid(2), uuid(1)]);
    rmSync(link);
    symlinkSync(second as string, link);
    expect(await inCwd(first as string)).toEqual([]);
    expect(await inCwd(second as string)).toEqual([uuid(2), uuid(1)]);
  });

  it('stops at the scan cap with a cursor, and ignores misplaced files', async () => {
    const home = makeTempDir();
    for (let i = 1; i <= 6; i += 1) writeThread(home, uuid(i), `2025-01-0${i}T00-00-00`);
    writeThread(home, uuid(30), '2025-01-09T00-00-00', { dir: join(home, 'sessions') });
    const capped = await listThreadsFromFiles(home, {
      pageSize: 10,
      allowedSources: [],
      maxScanEntries: 11,
    });
    // 2 root entries + 1 month + 6 days = 9 examined before any file: 2 day files fit.
    expect(capped.reachedScanCap).toBe(true);
    expect(capped.items.map((i) => i.threadId)).toEqual([uuid(6), uuid(5)]);
    expect(capped.nextCursor).not.toBeNull();
    const all = await listThreadsFromFiles(home, { pageSize: 10, allowedSources: [] });
    expect(all.items.map((i) => i.threadId)).not.toContain(uuid(30));
    expect(all.items).toHaveLength(6);
    expect(await findThreadPath(home, uuid(30))).not.toBeNull();
    expect((await listThreadsFromFiles(makeTempDir(), { pageSize: 5 })).items).toEqual([]);
  });

  it('pages through a directory larger than the scan cap to its end', async () => {
    const home = makeTempDir();
    for (let i = 1; i <= 9; i += 1) writeThread(home, uuid(i), '2025-01-03T12-00-00');
    const listed = await pages(home, { pageSize: 2, allowedSources: [], maxScanEntries: 6 });
    expect(listed.ids).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1].map(uuid));
    const archivedHome = makeTempDir();
    for (let i = 1; i <= 5; i += 1) {
      writeThread(archivedHome, uuid(i), '2025-01-03T12-00-00', {
        dir: join(archivedHome, 'archived_sessions'),
      });
    }
    const archived = await pages(archivedHome, {
      pageSize: 1,
      allowedSources: [],
      archived: true,
      maxScanEntries: 2,
    });
    expect(archived.ids).toEqual([5, 4, 3, 2, 1].map(uuid));
    expect(archived.items.every((i) => i.archived)).toBe(true);
  });

  it('resumes from a cursor in every accepted form and rejects a garbage one', async () => {
    const home = await makeTempDir();
    for (let i = 1; i <= 3; i += 1) writeThread(home, uuid(i), `2025-01-0${i}T12-00-00`);
    const after = async (cursor: string) =>
      (await listThreadsFromFiles(home, { pageSize: 10, cursor, allowedSources: [] })).items.map(
        (item) => item.threadId,
      );
    // Newest first: everything strictly before the cursor's position.
    expect(await after('2025-01-03T12:00:00Z')).toEqual([uuid(2), uuid(1)]);
    expect(await after('2025-01-03T12-00-00')).toEqual([uuid(2), uuid(1)]);
    expect(await after('2025-01-02T12:59:59.5+01:00')).toEqual([uuid(1)]);
    expect(await after(`2025-01-02T12:00:00Z|${uuid(3)}`)).toEqual([uuid(2), uuid(1)]);
    for (const bad of ['garbage', '2025-01-03T12:00:00Z|nope', '|']) {
      const error = await listThreadsFromFiles(home, { pageSize: 10, cursor: bad }).catch(
        (caught: unknown) => caught,
      );
      expect(isRolloutError(error, 'InvalidCursor')).toBe(true);
    }
  });
});
