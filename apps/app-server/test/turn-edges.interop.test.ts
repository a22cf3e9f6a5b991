/**
 * Turn boundaries, ids and statuses at the edges of the rules, against the real codex-cli
 * 0.169.0: every legacy history of packages/protocol/test/turn-edge-cases.ts is written into a
 * home, read with `thread/read {includeTurns:true}` by the real binary and by Skein's built
 * server (each on its own copy), and the turns must be equal; the real binary must still answer
 * what the table says, so the fast tests built on the table (`segmentTurns`, the store's
 * `listTurns`) pin 0.169's behaviour.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureHomeDir, makeTempDir, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TURN_EDGE_CASES } from '../../../packages/protocol/test/turn-edge-cases.js';
import { skeinBuilt, withServer } from './support/differential.js';
import type { Message } from './support/rpc-process.js';

const CONFIG_TOML = [
  'model_provider = "offline"',
  '[model_providers.offline]',
  'name = "offline"',
  'base_url = "http://127.0.0.1:9/v1"',
  'wire_api = "responses"',
  '',
].join('\n');

const temps: string[] = [];
const threads = new Map<string, string>();
const answers = { codex: new Map<string, unknown>(), skein: new Map<string, unknown>() };

/** The session meta line of a real 0.131 rollout, re-addressed to a new thread. */
function sessionMeta(threadId: string, cwd: string): Record<string, unknown> {
  const sessions = join(fixtureHomeDir('codex-0.131'), 'sessions');
  const rel = (readdirSync(sessions, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.jsonl'))
    .sort()[0] as string;
  const line = JSON.parse(readFileSync(join(sessions, rel), 'utf8').split('\n')[0] as string) as {
    payload: Record<string, unknown>;
  };
  return { ...line, payload: { ...line.payload, id: threadId, cwd } };
}

function writeHome(home: string): void {
  writeFileSync(join(home, 'config.toml'), CONFIG_TOML);
  const dir = join(home, 'sessions', '2025', '01', '02');
  mkdirSync(dir, { recursive: true });
  Object.entries(TURN_EDGE_CASES).forEach(([name, edge], n) => {
    const threadId = randomUUID();
    threads.set(name, threadId);
    const second = String(n).padStart(2, '0');
    const lines = [sessionMeta(threadId, home), ...edge.records].map((line, i) =>
      JSON.stringify({
        timestamp: `2025-01-02T03:04:${second}.${String(i).padStart(3, '0')}Z`,
        ...line,
      }),
    );
    writeFileSync(
      join(dir, `rollout-2025-01-02T03-04-${second}-${threadId}.jsonl`),
      `${lines.join('\n')}\n`,
    );
  });
}

/** The turns of a `thread/read` answer (or the error). */
function turnsOf(answer: Message): unknown {
  if ('error' in answer) return answer;
  return (answer.result as { thread: { turns: unknown[] } }).thread.turns;
}

async function readAll(side: 'codex' | 'skein', source: string): Promise<void> {
  const home = makeTempDir(`skein-turn-edges-${side}-`);
  temps.push(home);
  cpSync(source, home, { recursive: true });
  await withServer(side, home, 'skein_turn_edges', async (proc) => {
    for (const [name, threadId] of threads) {
      const answer = await proc.request('thread/read', { threadId, includeTurns: true });
      answers[side].set(name, turnsOf(answer));
    }
  });
}

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  const source = makeTempDir('skein-turn-edges-');
  temps.push(source);
  writeHome(source);
  await readAll('codex', source);
  await readAll('skein', source);
}, 120_000);

afterAll(() => {
  for (const dir of temps) removeTempDir(dir);
});

describe.each(Object.keys(TURN_EDGE_CASES))('turns of "%s"', (name) => {
  it('0.169.0 answers what the table says', () => {
    const turns = answers.codex.get(name) as { id: string; status: string }[];
    expect(turns.map((turn) => `${turn.id}:${turn.status}`)).toEqual(TURN_EDGE_CASES[name]?.turns);
  });

  it('Skein answers what 0.169.0 answers', () => {
    expect(answers.skein.get(name)).toEqual(answers.codex.get(name));
  });
});
