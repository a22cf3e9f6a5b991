/**
 * Homes where Skein ran first: no Codex DB until Skein made one.
 * - A home with rollouts (written by 0.131 or 0.169) and no DB: Skein indexes it, renames,
 *   sets git, archives and unarchives; the real 0.131.0 opens the DB Skein created (no
 *   migration error) and sees the changes, then 0.169.0 migrates it and sees them too; then
 *   Skein works on the migrated DB and Codex sees that.
 * - An empty home where Skein writes the first threads.
 * - A Skein process that stays open while Codex 0.169 migrates the DB under it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newThreadId, type ThreadId } from '@skein/state';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { migrationVersions } from '../../../../packages/test-support/test/support/codex-db.js';
import { codexMigrations, expectHealthyHome, gitOf, refusal, using } from './support/checks.js';
import { type HomeKind, installHomeWithoutDb, type TestHome } from './support/homes.js';
import { type CodexVersion, Peer, type WireTurn } from './support/peers.js';
import { appendTurn, openSkein, turnItems } from './support/skein.js';

const GIT = {
  sha: '3333333333333333333333333333333333333333',
  branch: 'skein/first',
  originUrl: 'https://example.invalid/acme/first.git',
};

interface Cast {
  renamed: string;
  git: string;
  archivedTree: string[];
  unarchived: string;
  /** A paginated thread, when the home has one. */
  paginated?: string;
}

const CASTS: Partial<Record<HomeKind, Cast>> = {
  'recorded-0.131': {
    renamed: 'P2',
    git: 'P9',
    archivedTree: ['D2', 'D2c'],
    unarchived: 'P10',
  },
  'recorded-0.169': {
    renamed: 'P2',
    git: 'L3',
    archivedTree: ['P4', 'P4c', 'P4g'],
    unarchived: 'P10',
    paginated: 'P1',
  },
  'fixture-0.169': {
    renamed: 'T2',
    git: 'T7',
    archivedTree: ['T8', 'T8c'],
    unarchived: 'T11',
    paginated: 'T12',
  },
  'fixture-0.131': {
    renamed: 'T2',
    git: 'T7',
    archivedTree: ['T8', 'T8c'],
    unarchived: 'T11',
  },
};

function ids(turns: readonly WireTurn[]): string[] {
  return turns.map((turn) => turn.id);
}

/** Names, git and archive state as Skein set them. */
async function expectSkeinChanges(
  reader: Peer,
  home: TestHome,
  cast: Cast,
  name: string,
  what: string,
): Promise<void> {
  const renamed = home.thread(cast.renamed).id;
  expect.soft((await reader.read(renamed)).name, `${what}: name`).toBe(name);
  const listed = (await reader.list()).threads.find((t) => t.id === renamed);
  expect.soft(listed?.name, `${what}: listed name`).toBe(name);
  expect
    .soft(gitOf((await reader.read(home.thread(cast.git).id)).gitInfo), `${what}: git`)
    .toEqual(GIT);
  const archived = await reader.listedIds(true);
  for (const key of cast.archivedTree) {
    expect.soft(archived.has(home.thread(key).id), `${what}: ${key} archived`).toBe(true);
  }
  const active = await reader.listedIds(false);
  expect.soft(active.has(home.thread(cast.unarchived).id), `${what}: unarchived`).toBe(true);
}

describe('a home with rollouts and no DB: Skein first, then Codex', () => {
  it.each(Object.keys(CASTS) as HomeKind[])('%s', async (kind) => {
    const home = installHomeWithoutDb(kind);
    const cast = CASTS[kind];
    if (cast === undefined) throw new Error(`no cast for ${kind}`);
    try {
      const name = 'Named by Skein before Codex ✓';
      await using(Peer.skein(home.home), async (skein) => {
        const id = (key: string) => home.thread(key).id;
        await skein.request('thread/name/set', { threadId: id(cast.renamed), name });
        await skein.request('thread/metadata/update', { threadId: id(cast.git), gitInfo: GIT });
        await skein.request('thread/archive', { threadId: id(cast.archivedTree[0] ?? '') });
        await skein.request('thread/unarchive', { threadId: id(cast.unarchived) });
      });
      const created = migrationVersions(home.home);
      // Skein created a DB the oldest known Codex opens (and never more than one's migrations).
      expect.soft([codexMigrations('0.131.0'), codexMigrations('0.169.0')]).toContainEqual(created);
      const peers: Peer[] = [];
      const versions: CodexVersion[] = created.length === 32 ? ['0.131.0', '0.169.0'] : ['0.169.0'];
      // 0.131 cannot read 0.169's paginated rollouts at all: on such a home it only has to open
      // the DB Skein created.
      const paginatedRollouts = home.threads.some((t) => t.historyMode === 'paginated');
      for (const version of versions) {
        await using(Peer.codex(version, home.home), async (codex) => {
          peers.push(codex);
          if (version === '0.131.0' && paginatedRollouts) {
            await codex.list();
            return;
          }
          await expectSkeinChanges(codex, home, cast, name, `codex ${version}`);
          if (cast.paginated !== undefined) {
            const paginated = home.thread(cast.paginated);
            const turns = await codex.attempt<{ data: WireTurn[] }>('thread/turns/list', {
              threadId: paginated.id,
              limit: 100,
              sortDirection: 'asc',
            });
            expect
              .soft(turns.ok ? ids(turns.value.data) : turns.error, `codex ${version} turns`)
              .toEqual(paginated.turnIds);
          }
        });
        expect
          .soft(migrationVersions(home.home), `after codex ${version}`)
          .toEqual(codexMigrations(version));
      }
      // Skein works on after Codex migrated the DB.
      const again = 'Renamed by Skein after Codex migrated';
      const inProcess = await openSkein(home.home);
      let turnId = '';
      try {
        await inProcess.manager.setThreadName(home.thread(cast.renamed).id as ThreadId, again);
        const target = home.thread(cast.paginated ?? cast.renamed);
        turnId = await appendTurn(
          inProcess,
          target.id,
          target.historyMode,
          'Skein after the migration',
          'Reply',
        );
        const marked = await inProcess.manager
          .updateReadState({
            threadId: target.id as ThreadId,
            operation: 'unread',
            expectedRevision:
              (await inProcess.manager.readStates([target.id as ThreadId])).get(
                target.id as ThreadId,
              )?.revision ?? null,
          })
          .then(
            () => '(accepted)',
            (error: unknown) => String(error),
          );
        expect.soft(marked, 'skein marks on the migrated DB (0.169 receipts)').toBe('(accepted)');
        expect.soft(inProcess.warnings).toEqual([]);
      } finally {
        await inProcess.close();
      }
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        peers.push(codex);
        expect.soft((await codex.read(home.thread(cast.renamed).id)).name).toBe(again);
        const target = home.thread(cast.paginated ?? cast.renamed);
        expect
          .soft(ids(await codex.turns(target.id)).at(-1), 'codex reads skein turn')
          .toBe(turnId);
      });
      expectHealthyHome(home, '0.169.0', peers);
    } finally {
      home.remove();
    }
  });
});

describe('an empty home where Skein writes the first threads', () => {
  it('Skein creates threads, names, git, archive; Codex 0.131 then 0.169 see them; Skein goes on', async () => {
    const root = makeTempDir('skein-both-empty-');
    const homeDir = join(root, 'home');
    const cwd = join(root, 'project');
    mkdirSync(homeDir);
    mkdirSync(cwd);
    try {
      const skein = await openSkein(homeDir);
      const made: { id: string; turnId: string }[] = [];
      try {
        for (const text of ['First Skein thread', 'Second Skein thread', 'Third Skein thread']) {
          const thread = await skein.manager.startThread({ cwd, modelProvider: 'mock' });
          const turnId = newThreadId();
          await thread.recordItems(turnItems(thread.historyMode, turnId, text, `Re: ${text}`));
          await thread.flush();
          made.push({ id: thread.threadId, turnId });
          await skein.manager.unloadThread(thread.threadId);
        }
        const [first, second, third] = made;
        if (first === undefined || second === undefined || third === undefined) throw new Error();
        await skein.manager.setThreadName(first.id as ThreadId, 'Skein-made thread ✓');
        await skein.manager.updateThreadGitInfo(second.id as ThreadId, GIT);
        await skein.manager.archiveThread(third.id as ThreadId);
        expect.soft(skein.warnings).toEqual([]);
      } finally {
        await skein.close();
      }
      const [first, second, third] = made;
      if (first === undefined || second === undefined || third === undefined) throw new Error();
      const peers: Peer[] = [];
      for (const version of ['0.131.0', '0.169.0'] as const) {
        await using(Peer.codex(version, homeDir), async (codex) => {
          peers.push(codex);
          const what = `codex ${version}`;
          expect
            .soft((await codex.read(first.id)).name, `${what}: name`)
            .toBe('Skein-made thread ✓');
          expect.soft(gitOf((await codex.read(second.id)).gitInfo), `${what}: git`).toEqual(GIT);
          expect.soft((await codex.listedIds(true)).has(third.id), `${what}: archived`).toBe(true);
          const active = await codex.listedIds(false);
          expect.soft(active.has(first.id) && active.has(second.id), `${what}: listed`).toBe(true);
          const read = await codex.attempt<{ thread: { turns: WireTurn[] } }>('thread/read', {
            threadId: first.id,
            includeTurns: true,
          });
          expect
            .soft(read.ok ? ids(read.value.thread.turns) : read.error, `${what}: turns`)
            .toEqual([first.turnId]);
        });
      }
      // Skein goes on, on the DB 0.169 migrated.
      const after = await openSkein(homeDir);
      try {
        const unarchived = await after.manager.unarchiveThread(third.id as ThreadId).then(
          () => '(accepted)',
          (error: unknown) => String(error),
        );
        expect.soft(unarchived).toBe('(accepted)');
        await after.manager.setThreadName(second.id as ThreadId, 'Renamed after the migration');
      } finally {
        await after.close();
      }
      await using(Peer.codex('0.169.0', homeDir), async (codex) => {
        peers.push(codex);
        expect.soft((await codex.listedIds(false)).has(third.id)).toBe(true);
        expect.soft((await codex.read(second.id)).name).toBe('Renamed after the migration');
      });
      for (const peer of peers) expect.soft(peer.storageTrouble(), peer.label).toEqual([]);
      expect.soft(migrationVersions(homeDir)).toEqual(codexMigrations('0.169.0'));
    } finally {
      removeTempDir(root);
    }
  });
});

describe('a Skein process open while Codex 0.169 migrates the DB Skein created', () => {
  it.each(['recorded-0.169', 'recorded-0.131'] as HomeKind[])('%s', async (kind) => {
    const home = installHomeWithoutDb(kind);
    try {
      const paginated = kind === 'recorded-0.169' ? home.thread('P2') : undefined;
      const legacy = home.thread(kind === 'recorded-0.169' ? 'L3' : 'P2');
      const inProcess = await openSkein(home.home);
      let receipt: string | null = null;
      await using(Peer.skein(home.home), async (skein) => {
        await skein.list();
        // Codex migrates the DB under the open Skein.
        await using(Peer.codex('0.169.0', home.home), async (codex) => {
          await codex.list();
        });
        expect.soft(migrationVersions(home.home)).toEqual(codexMigrations('0.169.0'));
        // The DB has 0.169's receipts now: a Skein opened before sees and uses them.
        try {
          const marked = await inProcess.manager.updateReadState({
            threadId: legacy.id as ThreadId,
            operation: 'unread',
            expectedRevision: `initial:${legacy.id}`,
          });
          receipt = marked.revision;
        } catch (error) {
          expect.soft(String(error), 'skein opened before the migration marks unread').toBe('');
        } finally {
          await inProcess.close();
        }
        for (const thread of [paginated, legacy]) {
          if (thread === undefined) continue;
          const renamed = await skein.attempt('thread/name/set', {
            threadId: thread.id,
            name: `Skein after migration (${thread.historyMode})`,
          });
          expect.soft(refusal(renamed)).toBe('(accepted)');
          const git = await skein.attempt('thread/metadata/update', {
            threadId: thread.id,
            gitInfo: GIT,
          });
          expect.soft(refusal(git)).toBe('(accepted)');
        }
      });
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        for (const thread of [paginated, legacy]) {
          if (thread === undefined) continue;
          const read = await codex.read(thread.id);
          expect
            .soft(read.name, `codex sees the name of the ${thread.historyMode} thread`)
            .toBe(`Skein after migration (${thread.historyMode})`);
          expect
            .soft(gitOf(read.gitInfo), `codex sees git of the ${thread.historyMode} thread`)
            .toEqual(GIT);
        }
        if (receipt !== null) {
          expect.soft((await codex.readWithState(legacy.id)).readState).toEqual({
            firstUnread: { type: 'threadStart' },
            revision: receipt,
          });
        }
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    } finally {
      home.remove();
    }
  });
});
