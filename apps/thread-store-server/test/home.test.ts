/** thread-store-server over a real Codex home (the 0.131 fixture): the Local store via gRPC. */
import { installFixtureHome, makeTempDir, removeTempDir } from '@skein/test-support';
import type { RolloutItem, ThreadId } from '@skein/thread-store';
import { expectThreadStoreError } from '@skein/thread-store/testing';
import { RemoteThreadStore } from '@skein/thread-store-remote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startStoreServer } from './helpers.js';

let root: string;
let server: RunningServer;
let client: RemoteThreadStore;
let manifest: ReturnType<typeof installFixtureHome>['manifest'];

beforeAll(async () => {
  root = makeTempDir('skein-home-server-');
  const installed = installFixtureHome('codex-0.131', root);
  manifest = installed.manifest;
  server = await startStoreServer(installed.home);
  client = new RemoteThreadStore(server.address);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
  if (root) removeTempDir(root);
});

async function listAll(archived: boolean): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page += 1) {
    const result = await client.listThreads({ pageSize: 4, cursor, archived });
    ids.push(...result.items.map((thread) => thread.threadId));
    cursor = result.nextCursor;
    if (cursor === null) break;
  }
  return ids;
}

describe('thread-store-server --store <Codex home>', () => {
  it('lists the home’s threads, active and archived, through gRPC', async () => {
    const persisted = manifest.threads.filter((thread) => thread.persisted && thread.preview);
    const active = await listAll(false);
    const archived = await listAll(true);
    expect(new Set(active).size).toBe(active.length);
    expect([...active].sort()).toEqual(
      persisted
        .filter((thread) => !thread.archived)
        .map((thread) => thread.id)
        .sort(),
    );
    expect([...archived].sort()).toEqual(
      persisted
        .filter((thread) => thread.archived)
        .map((thread) => thread.id)
        .sort(),
    );
  });

  it('reads a thread with its history as the manifest records it', async () => {
    const expected = manifest.threads.find((thread) => thread.persisted && thread.turnCount > 1);
    expect(expected).toBeDefined();
    const thread = await client.readThread({
      threadId: expected!.id as ThreadId,
      includeHistory: true,
      includeArchived: true,
    });
    expect(thread.preview).toBe(expected!.preview);
    expect(thread.cwd).toBe(expected!.cwd);
    const userMessages = (thread.history?.items ?? [])
      .filter((item: RolloutItem) => item.type === 'event_msg')
      .map((item) => item.payload as { type?: string; message?: string })
      .filter((payload) => payload.type === 'user_message')
      .map((payload) => payload.message);
    expect(userMessages).toEqual(expected!.userMessages);
  });

  it('refuses reads by rollout path through the remote store', async () => {
    await expectThreadStoreError(
      client.readThreadByRolloutPath({ rolloutPath: 'sessions/2025/01/01/rollout-x.jsonl' }),
      'InvalidRequest',
    );
  });
});
