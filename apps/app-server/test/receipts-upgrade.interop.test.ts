/**
 * Read receipts survive a Codex upgrade. On a 0.131 home Skein keeps receipts in its sidecar
 * (Codex's 0.131 DB has no table for them, and Skein never changes a Codex schema); when the
 * real codex 0.169.0 then migrates the DB it creates its own, empty table. The next time Skein
 * opens the home it hands its receipts over, so 0.169.0 answers what the user marked.
 */
import { join } from 'node:path';
import { installFixtureHome, readFixtureManifest, removeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skeinBuilt, withServer } from './support/differential.js';
import type { RpcProcess } from './support/rpc-process.js';

let home = '';
let threadId = '';
const seen: Record<string, unknown> = {};

function session<T>(side: 'codex' | 'skein', run: (proc: RpcProcess) => Promise<T>): Promise<T> {
  return withServer(side, home, 'skein_receipts_upgrade', run);
}

async function readStateOf(proc: RpcProcess): Promise<unknown> {
  const answer = await proc.request('thread/read', { threadId });
  if ('error' in answer) return answer.error;
  return (answer.result as { readState?: unknown }).readState;
}

function codexTables(): string[] {
  const db = new Database(join(home, 'state_5.sqlite'), { readonly: true });
  try {
    return db
      .prepare("select name from sqlite_master where type = 'table'")
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

function sidecarReceipts(): number {
  const db = new Database(join(home, 'skein_1.sqlite'), { readonly: true });
  try {
    return db.prepare('select count(*) from thread_read_receipts').pluck().get() as number;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  home = installFixtureHome('codex-0.131').home;
  const manifest = readFixtureManifest('codex-0.131');
  const thread = manifest.threads.find((t) => t.persisted && !t.archived && !t.ephemeral);
  threadId = thread?.id as string;
  // 1. Skein on the 0.131 home marks the thread unread from its start (a receipt in the sidecar).
  seen.marked = await session('skein', async (proc) => {
    const answer = await proc.request('thread/readState/update', {
      threadId,
      operation: { type: 'unread' },
      expectedRevision: `initial:${threadId}`,
    });
    return 'error' in answer ? answer.error : (answer.result as { readState: unknown }).readState;
  });
  seen.tablesBefore = codexTables();
  seen.sidecarBefore = sidecarReceipts();
  // 2. The real 0.169.0 migrates the DB at start; its new table does not have the receipt.
  seen.codexAfterMigration = await session('codex', readStateOf);
  seen.tablesAfter = codexTables();
  // 3. Skein opens the migrated home (and hands its receipts over); 4. 0.169.0 reads again.
  seen.skeinAfterMigration = await session('skein', readStateOf);
  seen.sidecarAfter = sidecarReceipts();
  seen.codexAfterHandOver = await session('codex', readStateOf);
}, 180_000);

afterAll(() => {
  if (home !== '') removeTempDir(home);
});

describe('read receipts across a Codex upgrade', () => {
  it('starts as the upgrade leaves it: a receipt only Skein holds, a table 0.169.0 adds empty', () => {
    expect(seen.marked).toMatchObject({ firstUnread: { type: 'threadStart' } });
    expect(seen.tablesBefore).not.toContain('thread_read_receipts');
    expect(seen.sidecarBefore).toBe(1);
    expect(seen.tablesAfter).toContain('thread_read_receipts');
    expect(seen.codexAfterMigration).toMatchObject({ firstUnread: null });
  });

  it('hands the receipt to Codex once: 0.169.0 then answers what the user marked', () => {
    expect(seen.skeinAfterMigration).toEqual(seen.marked);
    expect(seen.codexAfterHandOver).toEqual(seen.marked);
    expect(seen.sidecarAfter).toBe(0);
  });
});
