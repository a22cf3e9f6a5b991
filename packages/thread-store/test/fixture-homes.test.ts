import { initStateDb } from '@skein/rollout';
import {
  FIXTURE_NAMES,
  type FixtureName,
  installFixtureHome,
  type ManifestThread,
  removeTempDir,
} from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalThreadStore, type RolloutItem, type StoredThread } from '../src/index.js';

/** Text of every user message in a history (legacy events and 0.169 `item_completed`). */
function userMessages(items: readonly RolloutItem[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (item.type !== 'event_msg') continue;
    const payload = item.payload as Record<string, unknown>;
    if (payload.type === 'user_message' && typeof payload.message === 'string') {
      out.push(payload.message);
    } else if (payload.type === 'item_completed') {
      const inner = payload.item as { type?: string; content?: { type: string; text?: string }[] };
      if (inner?.type === 'UserMessage') {
        out.push(
          (inner.content ?? [])
            .filter((part) => part.type === 'text')
            .map((part) => part.text ?? '')
            .join('\n'),
        );
      }
    }
  }
  return out;
}

/** A git update Codex 0.169 keeps only in its own state DB (which Skein never opens). */
function gitUpdateOnlyInCodexDb(fixture: FixtureName, thread: ManifestThread): boolean {
  return (
    fixture === 'codex-0.169' &&
    thread.actions.some((action) => String(action).includes('thread/metadata/update gitInfo'))
  );
}

for (const fixture of FIXTURE_NAMES) {
  for (const withDb of [false, true]) {
    describe(`${fixture} home through LocalThreadStore ${withDb ? 'with' : 'without'} a state DB`, () => {
      const cleanups: (() => Promise<void>)[] = [];
      afterEach(async () => {
        for (const cleanup of cleanups.splice(0)) await cleanup();
      });

      async function open() {
        const { home, manifest } = installFixtureHome(fixture);
        const stateDb = withDb ? await initStateDb({ codexHome: home }) : undefined;
        const store = new LocalThreadStore({ codexHome: home }, stateDb);
        cleanups.push(async () => {
          await store.close();
          await stateDb?.close();
          removeTempDir(home);
        });
        return { home, manifest, store };
      }

      it('reads every persisted thread: name, preview, archived flag, relations, git, history', async () => {
        const { manifest, store } = await open();
        const persisted = manifest.threads.filter((thread) => thread.persisted);
        expect(persisted.length).toBeGreaterThan(5);
        for (const expected of persisted) {
          const thread = await store.readThread({
            threadId: expected.id as StoredThread['threadId'],
            includeArchived: true,
            includeHistory: true,
          });
          expect(thread.threadId, expected.key).toBe(expected.id);
          expect(thread.name, expected.key).toBe(expected.name);
          expect(thread.preview, expected.key).toBe(expected.preview);
          expect(thread.archivedAtMs !== null, expected.key).toBe(expected.archived);
          expect(thread.forkedFromId, expected.key).toBe(expected.forkedFromId);
          // Codex 0.169 reads the parent from the session meta, which a 0.131 sub-agent's does
          // not hold (its spawn parent is in its source and the edge table).
          expect(thread.parentThreadId, expected.key).toBe(
            fixture === 'codex-0.131' ? null : expected.parentThreadId,
          );
          expect(thread.cwd, expected.key).toBe(expected.cwd);
          if (!gitUpdateOnlyInCodexDb(fixture, expected)) {
            const git = expected.gitInfo;
            expect(thread.gitInfo, expected.key).toEqual(
              git === null
                ? null
                : {
                    commitHash: git.sha ?? null,
                    branch: git.branch ?? null,
                    repositoryUrl: git.originUrl ?? null,
                  },
            );
          }
          const messages = userMessages(thread.history?.items ?? []);
          for (const text of expected.userMessages) {
            expect(messages, expected.key).toContain(text);
          }
          if (expected.archived) {
            await expect(
              store.readThread({ threadId: expected.id as StoredThread['threadId'] }),
            ).rejects.toMatchObject({ code: 'InvalidRequest' });
          }
        }
      });

      it('lists active and archived threads with names and previews', async () => {
        const { manifest, store } = await open();
        const active = await store.listThreads({ pageSize: 100 });
        const archived = await store.listThreads({ pageSize: 100, archived: true });
        const persisted = manifest.threads.filter((thread) => thread.persisted);
        const expectActive = persisted.filter((thread) => !thread.archived).map((t) => t.id);
        const expectArchived = persisted.filter((thread) => thread.archived).map((t) => t.id);
        expect(active.items.map((t) => t.threadId).sort()).toEqual([...expectActive].sort());
        expect(archived.items.map((t) => t.threadId).sort()).toEqual([...expectArchived].sort());
        for (const thread of [...active.items, ...archived.items]) {
          const expected = persisted.find((candidate) => candidate.id === thread.threadId);
          expect(thread.preview).toBe(expected?.preview);
          expect(thread.name).toBe(expected?.name);
        }
        // Pages of 3 in both directions cover the same set without repeats.
        for (const sortDirection of ['asc', 'desc'] as const) {
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let page = 0; page < 20; page += 1) {
            const result = await store.listThreads({ pageSize: 3, cursor, sortDirection });
            seen.push(...result.items.map((t) => t.threadId));
            cursor = result.nextCursor;
            if (cursor === null) break;
          }
          expect(seen.sort()).toEqual([...expectActive].sort());
        }
      });

      it('lists the turns of a multi-turn thread', async () => {
        const { manifest, store } = await open();
        const expected = manifest.threads.find(
          (thread) => thread.persisted && !thread.archived && thread.turnCount >= 3,
        );
        expect(expected).toBeDefined();
        const page = await store.listTurns({
          threadId: expected?.id as StoredThread['threadId'],
          pageSize: 50,
        });
        expect(page.turns.map((turn) => turn.turnId)).toEqual(expected?.turnIds);
      });
    });
  }
}
