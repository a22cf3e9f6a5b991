import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newThreadId } from '@skein/state';
import { ensureCodexCli, makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendSessionIndexEntry,
  findThreadNameById,
  findThreadPath,
  listThreadsFromFiles,
  type RolloutItem,
  RolloutRecorder,
  readRolloutHistory,
  withSessionIndexLock,
} from '../src/index.js';
import { StdioJsonRpcClient } from './stdio-jsonrpc.js';

/*
 * Interop with the real Codex CLI: a home written only by RolloutRecorder is listed by
 * `codex app-server` (`thread/list`) and read back (`thread/read`, includeTurns) with the
 * same preview and messages; what Codex renames and archives, Skein reads back; and (0.169)
 * Codex's session-index writes wait for the lock Skein holds.
 */

interface ThreadItemWire {
  type: string;
  text?: string;
  content?: Array<{ type: string; text?: string }>;
}
interface ThreadWire {
  id: string;
  preview: string;
  cwd: string;
  path: string | null;
  name: string | null;
  turns: Array<{ id: string; items: ThreadItemWire[] }>;
}

const clients: StdioJsonRpcClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function writeSkeinHome(home: string, workdir: string) {
  const threads: Array<{ id: string; userText: string; agentText: string }> = [];
  for (const [index, userText] of [
    'Interop: plan the kiwi release',
    'Interop: second thread ☕',
  ].entries()) {
    const threadId = newThreadId();
    const agentText = `Reply ${index} from the Skein recorder`;
    const recorder = RolloutRecorder.create({
      codexHome: home,
      threadId,
      cwd: workdir,
      originator: 'skein_interop',
      cliVersion: '0.1.0',
      source: 'vscode',
      modelProvider: 'openai',
      baseInstructions: 'You are a test agent.',
      git: null,
      createdAt: new Date(Date.now() - (2 - index) * 5000),
    });
    const turnId = newThreadId();
    const items: RolloutItem[] = [
      {
        type: 'event_msg',
        payload: {
          type: 'task_started',
          turn_id: turnId,
          started_at: Math.floor(Date.now() / 1000),
          model_context_window: 258400,
          collaboration_mode_kind: 'default',
        },
      },
      {
        type: 'turn_context',
        payload: {
          turn_id: turnId,
          cwd: workdir,
          approval_policy: 'never',
          sandbox_policy: { type: 'read-only' },
          model: 'gpt-5',
          effort: 'medium',
          summary: 'auto',
        },
      },
      {
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: userText }],
        },
      },
      {
        type: 'event_msg',
        payload: {
          type: 'user_message',
          message: userText,
          images: [],
          local_images: [],
          text_elements: [],
        },
      },
      {
        type: 'event_msg',
        payload: { type: 'agent_message', message: agentText, phase: null, memory_citation: null },
      },
      {
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: agentText }],
        },
      },
      {
        type: 'event_msg',
        payload: {
          type: 'token_count',
          info: {
            total_token_usage: {
              input_tokens: 100,
              cached_input_tokens: 0,
              output_tokens: 7,
              reasoning_output_tokens: 0,
              total_tokens: 107,
            },
            last_token_usage: {
              input_tokens: 100,
              cached_input_tokens: 0,
              output_tokens: 7,
              reasoning_output_tokens: 0,
              total_tokens: 107,
            },
            model_context_window: 258400,
          },
          rate_limits: null,
        },
      },
      {
        type: 'event_msg',
        payload: { type: 'task_complete', turn_id: turnId, last_agent_message: agentText },
      },
    ];
    recorder.record(items);
    await recorder.shutdown();
    threads.push({ id: threadId, userText, agentText });
  }
  return threads;
}

describe.each(['0.169.0', '0.131.0'])(
  'codex %s app-server reads a Skein-written home',
  (version) => {
    it('lists and reads every thread with the same preview and messages', {
      timeout: 180_000,
    }, async () => {
      const cli = ensureCodexCli(version);
      const home = makeTempDir('skein-interop-home-');
      const workdir = join(makeTempDir('skein-interop-work-'), 'project');
      mkdirSync(workdir, { recursive: true });
      const threads = await writeSkeinHome(home, workdir);
      const named = threads[0] as (typeof threads)[number];
      await appendSessionIndexEntry(home, named.id, 'Named by Skein');

      // Skein's own listing agrees before Codex ever touches the home.
      const ours = await listThreadsFromFiles(home, { pageSize: 10 });
      expect(ours.items.map((i) => i.preview)).toEqual(threads.map((t) => t.userText).reverse());

      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: home,
        CODEX_HOME: home,
        RUST_LOG: 'error',
        NO_COLOR: '1',
      };
      const client = new StdioJsonRpcClient(cli.binary, ['app-server'], { cwd: workdir, env });
      clients.push(client);
      await client.initialize();

      const list = await client.request<{ data: ThreadWire[]; nextCursor: string | null }>(
        'thread/list',
        {
          limit: 50,
          modelProviders: [],
        },
      );
      const listed = new Map(list.data.map((t) => [t.id, t]));
      for (const thread of threads) {
        const wire = listed.get(thread.id);
        expect(wire, `${thread.id} listed by codex ${version}`).toBeDefined();
        expect(wire?.preview).toBe(thread.userText);
        expect(wire?.cwd).toBe(workdir);
      }
      // Newest first, like Skein's own listing.
      expect(list.data.map((t) => t.id)).toEqual(threads.map((t) => t.id).reverse());

      for (const thread of threads) {
        const read = await client.request<{ thread: ThreadWire }>('thread/read', {
          threadId: thread.id,
          includeTurns: true,
        });
        expect(read.thread.id).toBe(thread.id);
        expect(read.thread.preview).toBe(thread.userText);
        expect(read.thread.name ?? null).toBe(thread === named ? 'Named by Skein' : null);
        expect(read.thread.turns).toHaveLength(1);
        const items = read.thread.turns[0]?.items ?? [];
        const userItem = items.find((i) => i.type === 'userMessage');
        const agentItem = items.find((i) => i.type === 'agentMessage');
        expect(userItem?.content?.map((c) => c.text).join('')).toBe(thread.userText);
        expect(agentItem?.text).toBe(thread.agentText);
      }

      // And the other way round: what Codex changes in the home, Skein reads back.
      const other = threads[1] as (typeof threads)[number];
      await client.request('thread/name/set', { threadId: other.id, name: 'Renamed by Codex' });
      expect(await findThreadNameById(home, other.id)).toBe('Renamed by Codex');
      await client.request('thread/archive', { threadId: named.id });
      const archivedPath = await findThreadPath(home, named.id);
      expect(archivedPath).toContain('/archived_sessions/');
      const archived = await listThreadsFromFiles(home, { pageSize: 10, archived: true });
      expect(archived.items.map((i) => [i.threadId, i.preview, i.name])).toEqual([
        [named.id, named.userText, 'Named by Skein'],
      ]);
      const active = await listThreadsFromFiles(home, { pageSize: 10 });
      expect(active.items.map((i) => [i.threadId, i.name])).toEqual([
        [other.id, 'Renamed by Codex'],
      ]);
      // Codex moved the file without rewriting it: every line still parses.
      expect((await readRolloutHistory(archivedPath as string)).parseErrors).toBe(0);

      if (version !== '0.131.0') {
        // 0.169 writers and Skein take the same session-index lock: Codex's rename waits
        // while Skein holds it, and lands once Skein lets go.
        let releasedAt = 0;
        const { renamed } = await withSessionIndexLock(home, async () => {
          const pending = client
            .request('thread/name/set', { threadId: other.id, name: 'Waited for Skein' })
            .then(() => Date.now());
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          expect(await findThreadNameById(home, other.id)).toBe('Renamed by Codex');
          releasedAt = Date.now();
          return { renamed: pending };
        });
        expect(await renamed).toBeGreaterThanOrEqual(releasedAt);
        expect(await findThreadNameById(home, other.id)).toBe('Waited for Skein');
      }
    });
  },
);
