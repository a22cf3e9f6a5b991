/**
 * A home whose rollouts were damaged (one emptied, one whose first line is not a session meta,
 * one archived and emptied), against the real codex-cli 0.169.0: every method that reads such
 * a thread answers 0.169.0's -32603 and its exact text (per-method prefix, the store's nested
 * error chain, the file and why), and the lists still answer. Each server runs on its own copy;
 * answers are compared with each copy's home path written as `<HOME>`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skeinBuilt, withServer } from './support/differential.js';
import type { Message } from './support/rpc-process.js';

const temps: string[] = [];
const ids = { emptied: '', badMeta: '', archivedEmptied: '' };
const answers = { codex: new Map<string, unknown>(), skein: new Map<string, unknown>() };

function idOf(file: string): string {
  return file.slice(-'.jsonl'.length - 36, -'.jsonl'.length);
}

/** A copy of the 0.169 fixture with three rollouts damaged (the same three on every copy). */
function damagedHome(): string {
  const { home } = installFixtureHome('codex-0.169');
  temps.push(home);
  const sessions = (readdirSync(join(home, 'sessions'), { recursive: true }) as string[])
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(home, 'sessions', name));
  const archived = readdirSync(join(home, 'archived_sessions'))
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(home, 'archived_sessions', name));
  const [emptied, badMeta] = sessions;
  const [archivedEmptied] = archived;
  if (!emptied || !badMeta || !archivedEmptied) throw new Error('the fixture has too few rollouts');
  writeFileSync(emptied, '');
  const rest = readFileSync(badMeta, 'utf8').split('\n').slice(1);
  const notMeta =
    '{"timestamp":"x","type":"event_msg","payload":{"type":"user_message","message":"hi"}}';
  writeFileSync(badMeta, [notMeta, ...rest].join('\n'));
  writeFileSync(archivedEmptied, '');
  Object.assign(ids, {
    emptied: idOf(emptied),
    badMeta: idOf(badMeta),
    archivedEmptied: idOf(archivedEmptied),
  });
  return home;
}

function requests(): [label: string, method: string, params: Record<string, unknown>][] {
  const { emptied, badMeta, archivedEmptied } = ids;
  return [
    ['read an emptied rollout', 'thread/read', { threadId: emptied }],
    [
      'read a rollout without a session meta',
      'thread/read',
      { threadId: badMeta, includeTurns: true },
    ],
    ['resume', 'thread/resume', { threadId: emptied }],
    ['fork', 'thread/fork', { threadId: badMeta }],
    ['turns', 'thread/turns/list', { threadId: badMeta }],
    ['items', 'thread/items/list', { threadId: emptied }],
    [
      'read state',
      'thread/readState/update',
      { threadId: emptied, operation: { type: 'read' }, expectedRevision: `initial:${emptied}` },
    ],
    ['rename', 'thread/name/set', { threadId: badMeta, name: 'x' }],
    ['git update', 'thread/metadata/update', { threadId: emptied, gitInfo: { branch: 'x' } }],
    ['archive', 'thread/archive', { threadId: emptied }],
    ['unarchive', 'thread/unarchive', { threadId: archivedEmptied }],
    ['delete', 'thread/delete', { threadId: badMeta }],
    ['list', 'thread/list', { limit: 100 }],
  ];
}

/** The whole error, or what a list answers (its ids): with the copy's path made neutral. */
function outcome(answer: Message, home: string): unknown {
  const body = 'error' in answer ? { error: answer.error } : answer.result;
  const text = JSON.stringify(body).replaceAll(home, '<HOME>');
  const value = JSON.parse(text) as { data?: { id: string }[] };
  return Array.isArray(value.data) ? value.data.map((thread) => thread.id) : value;
}

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  for (const side of ['codex', 'skein'] as const) {
    const home = damagedHome();
    await withServer(side, home, 'skein_unreadable', async (proc) => {
      for (const [label, method, params] of requests()) {
        answers[side].set(label, outcome(await proc.request(method, params), home));
      }
    });
  }
}, 120_000);

afterAll(() => {
  for (const dir of temps) removeTempDir(dir);
});

describe('damaged rollouts', () => {
  it('0.169.0 answers -32603 for each thread it cannot read, and still lists', () => {
    for (const [label, answer] of answers.codex) {
      if (label === 'list') expect(answer).toEqual(expect.any(Array));
      else expect(answer, label).toMatchObject({ error: { code: -32603 } });
    }
  });

  it.each(requests().map(([label]) => label))('%s: Skein answers as 0.169.0', (label) => {
    expect(answers.skein.get(label)).toEqual(answers.codex.get(label));
  });
});
