/**
 * Interop: the real Codex 0.169 shows what the README program wrote — the thread in
 * `thread/list`, and both messages in its turn — on a new home (a legacy thread, read with
 * `thread/read` + `includeTurns`) and on a home Codex 0.169 made (a paginated thread, read with
 * `thread/turns/list`, as 0.169 refuses full hydration of paginated threads).
 */
import { join } from 'node:path';
import {
  ensureCodexCli,
  installFixtureHome,
  makeTempDir,
  removeTempDir,
  StdioJsonRpcClient,
} from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { runReadmeProgram } from './readme-program.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface WireItem {
  type: string;
  text?: string;
  content?: { type: string; text?: string }[];
}
interface WireTurn {
  id: string;
  status: string;
  items: WireItem[];
}

/** `[type, text]` of the user and agent messages of some turns. */
function messagesOf(turns: readonly WireTurn[]): [string, string][] {
  return turns.flatMap((turn) =>
    turn.items
      .filter((item) => item.type === 'userMessage' || item.type === 'agentMessage')
      .map((item): [string, string] => [
        item.type,
        item.type === 'agentMessage'
          ? (item.text ?? '')
          : (item.content ?? []).map((part) => part.text ?? '').join(''),
      ]),
  );
}

const EXPECTED: [string, string][] = [
  ['userMessage', 'What is a skein?'],
  ['agentMessage', 'A loosely coiled length of yarn.'],
];

async function codexOn(home: string, cwd: string): Promise<StdioJsonRpcClient> {
  const cli = ensureCodexCli('0.169.0');
  const client = new StdioJsonRpcClient(cli.binary, ['app-server'], {
    cwd,
    env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, RUST_LOG: 'error' },
  });
  cleanup.push(() => client.close());
  await client.initialize('skein-readme-interop', true);
  return client;
}

function runProgram(project: string): string {
  const run = runReadmeProgram(project);
  expect(run.status, run.stderr).toBe(0);
  const line = run.stdout.trimEnd().split('\n')[2] ?? '';
  return line.split(' ')[0] ?? '';
}

describe('codex 0.169 shows the README program’s thread', () => {
  it('on a new home: listed, and thread/read shows one turn with both messages', {
    timeout: 180_000,
  }, async () => {
    const project = makeTempDir('skein-readme-interop-');
    cleanup.push(() => removeTempDir(project));
    const id = runProgram(project);
    const client = await codexOn(join(project, 'codex-home'), project);

    const list = await client.request<{ data: { id: string; preview: string }[] }>('thread/list', {
      limit: 10,
    });
    expect(list.data.map((t) => [t.id, t.preview])).toEqual([[id, 'What is a skein?']]);
    const read = await client.request<{ thread: { turns: WireTurn[] } }>('thread/read', {
      threadId: id,
      includeTurns: true,
    });
    expect(read.thread.turns).toHaveLength(1);
    expect(read.thread.turns[0]?.status).toBe('completed');
    expect(messagesOf(read.thread.turns)).toEqual(EXPECTED);
  });

  it('on a Codex 0.169 home: listed, and thread/turns/list shows both messages', {
    timeout: 180_000,
  }, async () => {
    const project = makeTempDir('skein-readme-interop-');
    cleanup.push(() => removeTempDir(project));
    installFixtureHome('codex-0.169', join(project, 'codex-home'));
    const id = runProgram(project);
    const client = await codexOn(join(project, 'codex-home'), project);

    const list = await client.request<{ data: { id: string; preview: string }[] }>('thread/list', {
      limit: 50,
      modelProviders: [],
    });
    expect(list.data.find((t) => t.id === id)?.preview).toBe('What is a skein?');
    const turns = await client.request<{ data: WireTurn[] }>('thread/turns/list', {
      threadId: id,
      itemsView: 'full',
    });
    expect(turns.data).toHaveLength(1);
    expect(turns.data[0]?.status).toBe('completed');
    expect(messagesOf(turns.data)).toEqual(EXPECTED);
  });
});
