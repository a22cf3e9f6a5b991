/**
 * Archive, unarchive and delete (with the sub-agent cascade), and the refused delete of a
 * paginated fork's source, both ways on every home and history mode:
 * - Skein changes the thread tree; a fresh real `codex app-server` 0.169.0 lists the tree where
 *   Skein put it, reads it with its turns, and undoes Skein's archive / redoes its unarchive;
 * - the real Codex changes the tree while a Skein app-server is open; Skein's next answers put
 *   the tree where Codex does, read it with turns, and Skein can undo Codex's change.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASTS, castPairs, type Tree } from './support/cast.js';
import { expectHealthyHome, onHome, refusal, using } from './support/checks.js';
import { ALL_HOMES, type HistoryMode, type TestHome } from './support/homes.js';
import { type CodexVersion, Peer } from './support/peers.js';

interface TreeIds {
  root: string;
  all: string[];
  /** Own turn count per id (the recorded manifest's turn ids). */
  turns: Map<string, number>;
}

function treeIds(home: TestHome, tree: Tree | undefined): TreeIds {
  if (tree === undefined) throw new Error(`${home.kind}: no such tree`);
  const keys = [tree.root, ...tree.descendants];
  const threads = keys.map((key) => home.thread(key));
  return {
    root: home.thread(tree.root).id,
    all: threads.map((t) => t.id),
    turns: new Map(threads.map((t) => [t.id, t.turnIds.length])),
  };
}

/**
 * The tree is listed under `archived` and not under the other flag, its files are where that
 * flag says, and every thread reads with its turns.
 */
async function expectTreeAt(
  reader: Peer,
  ids: TreeIds,
  archived: boolean,
  what: string,
): Promise<void> {
  const listed = await reader.listedIds(archived);
  const other = await reader.listedIds(!archived);
  for (const id of ids.all) {
    expect.soft(listed.has(id), `${what}: ${id} listed archived=${archived}`).toBe(true);
    expect.soft(other.has(id), `${what}: ${id} not listed archived=${!archived}`).toBe(false);
    const read = await reader.attempt<{ thread: { path: string | null; turns: unknown[] } }>(
      'thread/read',
      { threadId: id, includeTurns: true },
    );
    expect.soft(read.ok ? 'read' : read.error, `${what}: ${id} reads with turns`).toBe('read');
    if (!read.ok) continue;
    const folder = archived ? '/archived_sessions/' : '/sessions/';
    expect.soft(read.value.thread.path ?? '', `${what}: ${id} file`).toContain(folder);
    expect.soft(read.value.thread.turns.length, `${what}: ${id} turns`).toBe(ids.turns.get(id));
  }
}

/** The thread is gone for `reader`: not read, not listed either way. */
async function expectGone(reader: Peer, ids: readonly string[], what: string): Promise<void> {
  const listed = new Set([...(await reader.listedIds(false)), ...(await reader.listedIds(true))]);
  for (const id of ids) {
    const read = await reader.attempt('thread/read', { threadId: id });
    expect.soft(read.ok, `${what}: ${id} no longer reads`).toBe(false);
    expect.soft(listed.has(id), `${what}: ${id} no longer listed`).toBe(false);
  }
}

function sessionIndexIds(home: TestHome): Set<string> {
  const path = join(home.home, 'session_index.jsonl');
  if (!existsSync(path)) return new Set();
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => String((JSON.parse(line) as { id?: unknown }).id)),
  );
}

const treePairs = castPairs(ALL_HOMES, 'tree');
const archivedPairs = castPairs(ALL_HOMES, 'archived');
const forkPairs = castPairs(ALL_HOMES, 'fork');

function codexFor(home: TestHome): CodexVersion {
  return home.dbVersion === '0.131.0' ? '0.131.0' : '0.169.0';
}

describe('Skein archives, unarchives, deletes → the real Codex 0.169 sees it', () => {
  it.each(treePairs)('archive with sub-agents: %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const ids = treeIds(home, CASTS[kind].tree[mode]);
      await using(Peer.skein(home.home), async (skein) => {
        await skein.request('thread/archive', { threadId: ids.root });
        await expectTreeAt(skein, ids, true, 'skein itself');
      });
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        await expectTreeAt(codex, ids, true, 'codex after skein archived');
        const unarchived = await codex.attempt('thread/unarchive', { threadId: ids.root });
        expect.soft(refusal(unarchived), 'codex unarchives what skein archived').toBe('(accepted)');
        await expectTreeAt(codex, ids, false, 'codex after its own unarchive');
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });

  it.each(archivedPairs)('unarchive with sub-agents: %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const ids = treeIds(home, CASTS[kind].archived[mode]);
      await using(Peer.skein(home.home), async (skein) => {
        await skein.request('thread/unarchive', { threadId: ids.root });
        await expectTreeAt(skein, ids, false, 'skein itself');
      });
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        await expectTreeAt(codex, ids, false, 'codex after skein unarchived');
        const archived = await codex.attempt('thread/archive', { threadId: ids.root });
        expect.soft(refusal(archived), 'codex archives what skein unarchived').toBe('(accepted)');
        await expectTreeAt(codex, ids, true, 'codex after its own archive');
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });

  it.each(treePairs)('delete with sub-agents: %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const ids = treeIds(home, CASTS[kind].tree[mode]);
      await using(Peer.skein(home.home), async (skein) => {
        await skein.request('thread/delete', { threadId: ids.root });
        await expectGone(skein, ids.all, 'skein itself');
      });
      const indexed = sessionIndexIds(home);
      for (const id of ids.all) expect.soft(indexed.has(id), `${id} left the index`).toBe(false);
      const peers: Peer[] = [];
      if (home.dbVersion === '0.131.0') {
        await using(Peer.codex('0.131.0', home.home), async (codex) => {
          peers.push(codex);
          await expectGone(codex, ids.all, 'codex 0.131.0');
        });
      }
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        peers.push(codex);
        await expectGone(codex, ids.all, 'codex 0.169.0');
      });
      expectHealthyHome(home, '0.169.0', peers);
    });
  });

  it.each(forkPairs)('delete of a fork source: %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const pair = CASTS[kind].fork[mode];
      if (pair === undefined) throw new Error('no fork pair');
      const source = home.thread(pair.source);
      const fork = home.thread(pair.fork);
      await using(Peer.skein(home.home), async (skein) => {
        const deleted = await skein.attempt('thread/delete', { threadId: source.id });
        if (mode === 'paginated') {
          // 0.169 refuses: the fork's history still references the source's file.
          expect
            .soft(refusal(deleted))
            .toContain(`cannot delete thread ${source.id}: forked history still references it`);
        } else {
          expect
            .soft(refusal(deleted), 'a legacy fork is a copy: its source may go')
            .toBe('(accepted)');
        }
      });
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        const read = await codex.attempt<{ thread: { turns: unknown[] } }>('thread/read', {
          threadId: fork.id,
          includeTurns: true,
        });
        expect.soft(read.ok ? 'read' : read.error, 'codex reads the fork with turns').toBe('read');
        if (read.ok) expect.soft(read.value.thread.turns.length).toBe(fork.turnIds.length);
        const sourceRead = await codex.attempt('thread/read', { threadId: source.id });
        expect
          .soft(sourceRead.ok, 'the source is there exactly when it was refused')
          .toBe(mode === 'paginated');
        expectHealthyHome(home, '0.169.0', [codex]);
      });
    });
  });
});

describe('the real Codex archives, unarchives, deletes → Skein, open before, answers it', () => {
  it.each(treePairs)('archive with sub-agents: %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const ids = treeIds(home, CASTS[kind].tree[mode]);
      const version = codexFor(home);
      await using(Peer.skein(home.home), async (skein) => {
        await expectTreeAt(skein, ids, false, 'skein before');
        await using(Peer.codex(version, home.home), async (codex) => {
          await codex.request('thread/archive', { threadId: ids.root });
          await expectTreeAt(skein, ids, true, `skein after codex ${version} archived`);
          expectHealthyHome(home, version, [codex, skein]);
        });
        // Skein undoes Codex's archive (it must find the files where Codex moved them).
        const unarchived = await skein.attempt('thread/unarchive', { threadId: ids.root });
        expect.soft(refusal(unarchived), 'skein unarchives what codex archived').toBe('(accepted)');
        await expectTreeAt(skein, ids, false, 'skein after its own unarchive');
      });
    });
  });

  it.each(archivedPairs)('unarchive with sub-agents: %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const ids = treeIds(home, CASTS[kind].archived[mode]);
      const version = codexFor(home);
      // 0.131 restores only the root (codex-db-effects §2.5); 0.169 the descendants too.
      const restored: TreeIds = version === '0.131.0' ? { ...ids, all: [ids.root] } : ids;
      await using(Peer.skein(home.home), async (skein) => {
        await expectTreeAt(skein, ids, true, 'skein before');
        await using(Peer.codex(version, home.home), async (codex) => {
          await codex.request('thread/unarchive', { threadId: ids.root });
          await expectTreeAt(codex, restored, false, `codex ${version} itself`);
          await expectTreeAt(skein, restored, false, `skein after codex ${version} unarchived`);
          expectHealthyHome(home, version, [codex, skein]);
        });
        const archived = await skein.attempt('thread/archive', { threadId: ids.root });
        expect.soft(refusal(archived), 'skein archives what codex unarchived').toBe('(accepted)');
        await expectTreeAt(skein, restored, true, 'skein after its own archive');
      });
    });
  });

  it.each(treePairs)('delete with sub-agents (0.169 only): %s, %s', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const ids = treeIds(home, CASTS[kind].tree[mode]);
      await using(Peer.skein(home.home), async (skein) => {
        await expectTreeAt(skein, ids, false, 'skein before');
        await using(Peer.codex('0.169.0', home.home), async (codex) => {
          await codex.request('thread/delete', { threadId: ids.root });
          await expectGone(codex, ids.all, 'codex itself');
          await expectGone(skein, ids.all, 'skein after codex deleted');
          expectHealthyHome(home, '0.169.0', [codex, skein]);
        });
      });
    });
  });

  it.each(forkPairs.filter(([, mode]) => mode === 'legacy'))(
    'delete of a legacy fork source: %s, %s',
    async (kind, mode: HistoryMode) => {
      await onHome(kind, async (home) => {
        const pair = CASTS[kind].fork[mode];
        if (pair === undefined) throw new Error('no fork pair');
        const source = home.thread(pair.source);
        const fork = home.thread(pair.fork);
        await using(Peer.skein(home.home), async (skein) => {
          await skein.read(source.id);
          await using(Peer.codex('0.169.0', home.home), async (codex) => {
            await codex.request('thread/delete', { threadId: source.id });
            await expectGone(skein, [source.id], 'skein after codex deleted the source');
            const forkRead = await skein.attempt<{ thread: { turns: unknown[] } }>('thread/read', {
              threadId: fork.id,
              includeTurns: true,
            });
            expect.soft(forkRead.ok ? 'read' : forkRead.error, 'skein reads the fork').toBe('read');
            if (forkRead.ok)
              expect.soft(forkRead.value.thread.turns.length).toBe(fork.turnIds.length);
            expectHealthyHome(home, '0.169.0', [codex, skein]);
          });
        });
      });
    },
  );
});
