/**
 * The store's `listTurns` and the wire's `buildTurns` must cut a history into the same turns:
 * for every thread of every fixture and recorded home, and for the histories at the edges of
 * the rules in packages/protocol/test/turn-edge-cases.ts (0.169's answers), the turn ids, statuses, times and error messages of `LocalThreadStore.listTurns`
 * equal those `buildTurns` gives for the same history. The store cannot know whether a thread
 * is running, so it is compared with the wire of a running thread (an open last turn stays
 * `inProgress`).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newThreadId, type ThreadId } from '@skein/protocol';
import {
  FIXTURE_NAMES,
  fixtureHomeDir,
  installFixtureHome,
  makeTempDir,
  removeTempDir,
  repoRoot,
} from '@skein/test-support';
import { LocalThreadStore } from '@skein/thread-store';
import { afterAll, describe, expect, it } from 'vitest';
import { TURN_EDGE_CASES } from '../../protocol/test/turn-edge-cases.js';
import { installRecordedHome } from '../../test-support/test/support/install-recorded-home.js';
import { buildTurns, type HistoryItem } from '../src/index.js';

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) removeTempDir(dir);
});

interface TurnFacts {
  id: string;
  status: string;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  error: string | null;
}

/** Thread ids of every rollout file of a home, active and archived. */
function threadIdsOf(home: string): ThreadId[] {
  const ids: ThreadId[] = [];
  for (const root of ['sessions', 'archived_sessions']) {
    let entries: string[];
    try {
      entries = readdirSync(join(home, root), { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const rel of entries.sort()) {
      const match = /rollout-.*-([0-9a-f-]{36})\.jsonl$/.exec(rel);
      if (match?.[1] !== undefined) ids.push(match[1] as ThreadId);
    }
  }
  return ids;
}

async function storeTurns(store: LocalThreadStore, threadId: ThreadId): Promise<TurnFacts[]> {
  const page = await store.listTurns({
    threadId,
    includeArchived: true,
    pageSize: 10_000,
    itemsView: 'notLoaded',
  });
  expect(page.nextCursor).toBeNull();
  return page.turns.map((turn) => ({
    id: turn.turnId,
    status: turn.status,
    startedAt: turn.startedAt,
    completedAt: turn.completedAt,
    durationMs: turn.durationMs,
    error: turn.error?.message ?? null,
  }));
}

async function wireTurns(store: LocalThreadStore, threadId: ThreadId): Promise<TurnFacts[]> {
  const history = await store.loadHistory({ threadId, includeArchived: true });
  return buildTurns(history.items as HistoryItem[], true).turns.map(({ turn }) => ({
    id: turn.id,
    status: turn.status,
    startedAt: turn.startedAt,
    completedAt: turn.completedAt,
    durationMs: turn.durationMs,
    error: turn.error?.message ?? null,
  }));
}

async function expectSameTurns(home: string, minimumThreads: number): Promise<void> {
  const store = new LocalThreadStore({ codexHome: home, warn: () => undefined });
  const ids = threadIdsOf(home);
  expect(ids.length).toBeGreaterThanOrEqual(minimumThreads);
  let turns = 0;
  for (const threadId of ids) {
    const wire = await wireTurns(store, threadId);
    expect(await storeTurns(store, threadId), `thread ${threadId}`).toEqual(wire);
    turns += wire.length;
  }
  expect(turns).toBeGreaterThan(0);
}

function recordedNames(): string[] {
  const dir = join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded');
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

describe('store and wire segment the same turns', () => {
  it.each(FIXTURE_NAMES)('on every thread of the %s fixture', async (name) => {
    const { home } = installFixtureHome(name);
    temps.push(home);
    await expectSameTurns(home, 3);
  });

  it.each(recordedNames())('on every thread of the recorded %s home', async (name) => {
    const home = makeTempDir(`skein-turns-${name}-`);
    temps.push(home);
    installRecordedHome(
      join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded', name, 'home-a'),
      home,
    );
    await expectSameTurns(home, 1);
  });

  it('on histories at the edges of the rules', async () => {
    const home = makeTempDir('skein-turns-edges-');
    temps.push(home);
    for (const edge of Object.values(TURN_EDGE_CASES)) writeRollout(home, edge.records);
    await expectSameTurns(home, Object.keys(TURN_EDGE_CASES).length);
  });
});

/** A legacy session meta line taken from the 0.131 fixture, so the store reads it as Codex's. */
function sessionMetaLine(threadId: ThreadId): Record<string, unknown> {
  const home = fixtureHomeDir('codex-0.131');
  const [rel] = threadIdsOfFiles(home);
  const first = readFileSync(join(home, rel as string), 'utf8').split('\n')[0] as string;
  const line = JSON.parse(first) as { payload: Record<string, unknown> };
  return { ...line, payload: { ...line.payload, id: threadId } };
}

function threadIdsOfFiles(home: string): string[] {
  return (readdirSync(join(home, 'sessions'), { recursive: true }) as string[])
    .filter((rel) => rel.endsWith('.jsonl'))
    .sort()
    .map((rel) => join('sessions', rel));
}

let edgeCount = 0;
function writeRollout(home: string, lines: readonly Record<string, unknown>[]): void {
  const threadId = newThreadId();
  edgeCount += 1;
  const second = String(edgeCount).padStart(2, '0');
  const dir = join(home, 'sessions', '2025', '01', '02');
  mkdirSync(dir, { recursive: true });
  const text = [sessionMetaLine(threadId), ...lines]
    .map((line, i) =>
      JSON.stringify({
        timestamp: `2025-01-02T03:04:${second}.${String(i).padStart(3, '0')}Z`,
        ...line,
      }),
    )
    .join('\n');
  writeFileSync(join(dir, `rollout-2025-01-02T03-04-${second}-${threadId}.jsonl`), `${text}\n`);
}
