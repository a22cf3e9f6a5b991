import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureCodexCli, makeTempDir, removeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import type { SampleReport } from '../src/sample.js';
import { JsonRpcChild } from './jsonrpc-client.js';

/*
 * Interop: the threads the sample writes through ThreadManager → LiveThread → LocalThreadStore
 * are listed and read by the real `codex app-server` (0.169.0), fork and rename included.
 */

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface WireThread {
  id: string;
  preview: string;
  name: string | null;
  forkedFromId: string | null;
  cwd: string;
  source: unknown;
  turns: { items: { type: string; text?: string; content?: { text?: string }[] }[] }[];
}

describe('codex 0.169.0 reads what the sample wrote', () => {
  it('lists both threads and reads the turn back', { timeout: 180_000 }, async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm build first`);
    const home = makeTempDir('skein-sample-interop-');
    const cwd = makeTempDir('skein-sample-interop-cwd-');
    cleanup.push(
      () => removeTempDir(home),
      () => removeTempDir(cwd),
    );
    const message = 'Interop check: list my files';
    const reply = 'Here they are.';
    const run = spawnSync(
      process.execPath,
      [MAIN, '--codex-home', home, '--cwd', cwd, '--message', message, '--reply', reply, '--json'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as SampleReport;

    const cli = ensureCodexCli('0.169.0');
    const client = new JsonRpcChild(cli.binary, ['app-server'], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        CODEX_HOME: home,
        RUST_LOG: 'error',
        NO_COLOR: '1',
      },
    });
    cleanup.push(() => client.close());
    await client.initialize();

    const list = await client.request<{ data: WireThread[] }>('thread/list', {
      limit: 10,
      modelProviders: [],
      sourceKinds: ['exec'],
    });
    const byId = new Map(list.data.map((thread) => [thread.id, thread]));
    const original = byId.get(report.started.threadId);
    const fork = byId.get(report.forked.threadId);
    expect(original).toMatchObject({ preview: message, name: report.renamed.name, cwd });
    expect(fork).toMatchObject({ preview: message });
    const forkRead = await client.request<{ thread: WireThread }>('thread/read', {
      threadId: report.forked.threadId,
    });
    // (Codex's thread/list leaves forkedFromId null; thread/read takes it from the session meta.)
    expect(forkRead.thread.forkedFromId).toBe(report.started.threadId);

    const read = await client.request<{ thread: WireThread }>('thread/read', {
      threadId: report.started.threadId,
      includeTurns: true,
    });
    expect(read.thread.turns).toHaveLength(1);
    const items = read.thread.turns[0]?.items ?? [];
    const user = items.find((item) => item.type === 'userMessage');
    const agent = items.find((item) => item.type === 'agentMessage');
    expect(user?.content?.map((part) => part.text).join('')).toBe(message);
    expect(agent?.text).toBe(reply);
  });
});
