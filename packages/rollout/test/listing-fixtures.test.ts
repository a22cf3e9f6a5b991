import { FIXTURE_NAMES, installFixtureHome } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  findThreadNameById,
  findThreadPath,
  listThreadsFromFiles,
  parseEventMsg,
  readRolloutHistory,
  readThreadHistory,
  type ThreadListItem,
} from '../src/index.js';

async function listAll(home: string, archived: boolean): Promise<ThreadListItem[]> {
  const items: ThreadListItem[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const result = await listThreadsFromFiles(home, {
      pageSize: 3,
      cursor,
      archived,
      allowedSources: [],
    });
    items.push(...result.items);
    cursor = result.nextCursor;
    if (cursor === null) break;
  }
  return items;
}

describe.each(FIXTURE_NAMES)('fixture %s through the filesystem', (fixture) => {
  const { home, manifest } = installFixtureHome(fixture);
  const persisted = manifest.threads.filter((t) => t.persisted);

  it('lists every persisted thread with its preview, cwd, name and archived flag', async () => {
    const active = await listAll(home, false);
    const archived = await listAll(home, true);
    expect(active.length + archived.length).toBe(persisted.length);
    for (const thread of persisted) {
      const pool = thread.archived ? archived : active;
      const item = pool.find((i) => i.threadId === thread.id);
      expect(item, `${thread.key} listed`).toBeDefined();
      expect(item?.preview, thread.key).toBe(thread.preview);
      expect(item?.cwd, thread.key).toBe(thread.cwd);
      expect(item?.name ?? null, thread.key).toBe(thread.name);
      expect(item?.archived, thread.key).toBe(thread.archived);
      // The parent the session meta names: a 0.131 sub-agent's names none (its spawn parent
      // is in its source), and Codex 0.169 lists it without one.
      expect(item?.parentThreadId ?? null, thread.key).toBe(
        fixture === 'codex-0.131' ? null : thread.parentThreadId,
      );
      expect(item?.forkedFromId ?? null, thread.key).toBe(thread.forkedFromId);
    }
    for (const thread of manifest.threads.filter((t) => !t.persisted)) {
      expect([...active, ...archived].some((i) => i.threadId === thread.id)).toBe(false);
    }
  });

  it('hides sub-agent threads under the default (interactive) source filter', async () => {
    const page = await listThreadsFromFiles(home, { pageSize: 100 });
    const child = persisted.find((t) => t.parentThreadId !== null);
    expect(child).toBeDefined();
    expect(page.items.some((i) => i.threadId === child?.id)).toBe(false);
    expect(page.items.length).toBe(
      persisted.filter((t) => !t.archived && t.parentThreadId === null).length,
    );
  });

  it('orders newest first and pages without gaps or repeats in both directions', async () => {
    const desc = await listAll(home, false);
    const ids = desc.map((i) => i.threadId);
    expect(new Set(ids).size).toBe(ids.length);
    const ascItems: ThreadListItem[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page += 1) {
      const result = await listThreadsFromFiles(home, {
        pageSize: 2,
        cursor,
        sortDirection: 'asc',
        allowedSources: [],
      });
      ascItems.push(...result.items);
      cursor = result.nextCursor;
      if (cursor === null) break;
    }
    expect(ascItems.map((i) => i.threadId)).toEqual([...ids].reverse());
    // updated_at: by mtime, newest first; the manifest's "recent" thread comes first.
    const byUpdated = await listThreadsFromFiles(home, {
      pageSize: 100,
      sortKey: 'updatedAt',
      allowedSources: [],
    });
    const recentKey = (manifest.roles as Record<string, string>).recent;
    const recent = manifest.threads.find((t) => t.key === recentKey);
    expect(byUpdated.items[0]?.threadId).toBe(recent?.id);
    const mtimes = byUpdated.items.map((i) => i.updatedAtMs);
    expect([...mtimes].sort((a, b) => b - a)).toEqual(mtimes);
  });

  it('filters by cwd and search term (session-index name)', async () => {
    const cwd = persisted[0]?.cwd as string;
    const page = await listThreadsFromFiles(home, {
      pageSize: 100,
      cwdFilters: [cwd],
      allowedSources: [],
    });
    expect(page.items.map((i) => i.threadId).sort()).toEqual(
      persisted
        .filter((t) => !t.archived && t.cwd === cwd)
        .map((t) => t.id)
        .sort(),
    );
    expect((await listThreadsFromFiles(home, { pageSize: 100, cwdFilters: [] })).items).toEqual([]);
    const named = persisted.find((t) => t.name !== null && !t.archived);
    const term = named?.name?.slice(0, 4) as string;
    const search = await listThreadsFromFiles(home, {
      pageSize: 100,
      searchTerm: term,
      allowedSources: [],
    });
    expect(search.items.map((i) => i.threadId).sort()).toEqual(
      persisted
        .filter((t) => !t.archived && t.name?.includes(term))
        .map((t) => t.id)
        .sort(),
    );
  });

  it('finds every thread by id and reads its history', async () => {
    for (const thread of persisted) {
      const path = await findThreadPath(home, thread.id);
      expect(path, thread.key).not.toBeNull();
      expect(path?.includes(thread.archived ? '/archived_sessions/' : '/sessions/')).toBe(true);
      const history = await readRolloutHistory(path as string);
      expect(history.threadId).toBe(thread.id);
      expect(history.parseErrors).toBe(0);
      expect(await findThreadNameById(home, thread.id)).toBe(thread.name);
    }
    for (const thread of manifest.threads.filter((t) => !t.persisted)) {
      expect(await findThreadPath(home, thread.id)).toBeNull();
    }
    expect(await findThreadPath(home, 'not-a-uuid')).toBeNull();
  });
});

describe.each(FIXTURE_NAMES)('fixture %s full history', (fixture) => {
  const { home, manifest } = installFixtureHome(fixture);
  it('every thread history (incl. inherited fork prefix) has the manifest messages', async () => {
    for (const thread of manifest.threads.filter((t) => t.persisted)) {
      const path = await findThreadPath(home, thread.id);
      const history = await readThreadHistory(home, path as string);
      expect(history.missingBases).toEqual([]);
      const users: string[] = [];
      const agents: string[] = [];
      for (const line of [...history.inheritedLines, ...history.lines]) {
        if (line.type !== 'event_msg') continue;
        const event = parseEventMsg(line.payload);
        if (event?.type === 'user_message') users.push(event.message);
        if (event?.type === 'agent_message') agents.push(event.message);
        if (event?.type === 'item_completed' && event.item.type === 'UserMessage') {
          users.push((event.item.content ?? []).map((c) => String(c.text ?? '')).join(''));
        }
        if (event?.type === 'item_completed' && event.item.type === 'AgentMessage') {
          agents.push((event.item.content ?? []).map((c) => String(c.text ?? '')).join(''));
        }
      }
      expect(users, thread.key).toEqual(thread.userMessages);
      expect(agents, thread.key).toEqual(thread.agentMessages);
    }
  });
});
