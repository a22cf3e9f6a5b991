import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { newThreadId } from '@skein/protocol';
import {
  appendSessionIndexEntry,
  archivedPathFor,
  type RolloutItem,
  RolloutRecorder,
  type SessionSource,
} from '@skein/rollout';
import { SKEIN_VERSION } from './version.js';

/**
 * The demo home the CLI makes on a machine without any Codex home, so `skein list` shows
 * something real on first run. Its threads are ordinary legacy-format rollouts (the format
 * Codex 0.169 reads), written once; the marker file says the home is complete.
 *
 * Written with the rollout package's RolloutRecorder (so the files are exactly what Skein
 * writes for any thread) and its name index.
 */

export interface DemoHome {
  created: boolean;
  threads: number;
}

const MARKER = '.skein-demo-home';

interface DemoThread {
  key: string;
  name: string | null;
  cwd: string;
  minutesAgo: number;
  archived?: boolean;
  parentKey?: string;
  nickname?: string;
  turns: {
    user: string;
    tool?: { name: string; args: string; output: string };
    assistant: string;
  }[];
}

const DEMO_THREADS: DemoThread[] = [
  {
    key: 'flaky',
    name: 'Fix the flaky login test',
    cwd: '/home/demo/projects/webapp',
    minutesAgo: 12,
    turns: [
      {
        user: 'The login e2e test fails about one run in five. Can you find out why?',
        tool: {
          name: 'shell',
          args: '{"command":["npm","test","--","login.spec.ts","--repeat-each=10"]}',
          output: '8 passed, 2 failed\nTimeoutError: waiting for selector "#dashboard"',
        },
        assistant:
          'The test clicks "Sign in" before the CSRF token request resolves, so two runs in ten time out. Waiting for the `/csrf` response before submitting makes it stable (10/10 locally).',
      },
      {
        user: 'Great, please make that change.',
        assistant: 'Done: the test now awaits the token response before submitting the form.',
      },
    ],
  },
  {
    key: 'payments',
    name: 'Payments refactor',
    cwd: '/home/demo/projects/shop',
    minutesAgo: 95,
    turns: [
      {
        user: 'Split the payment module into a provider interface and one file per provider.',
        tool: {
          name: 'spawn_agent',
          args: '{"message":"Review the payment refactor diff for behaviour changes."}',
          output: '{"agent_id":"(reviewer)","nickname":"Ada"}',
        },
        assistant:
          'I moved Stripe and PayPal behind a `PaymentProvider` interface and asked a reviewer sub-agent to check the diff for behaviour changes.',
      },
    ],
  },
  {
    key: 'review',
    name: null,
    cwd: '/home/demo/projects/shop',
    minutesAgo: 94,
    parentKey: 'payments',
    nickname: 'Ada',
    turns: [
      {
        user: 'Review the payment refactor diff for behaviour changes.',
        assistant: 'No behaviour changes found; the refund path keeps its retry policy.',
      },
    ],
  },
  {
    key: 'cache',
    name: null,
    cwd: '/home/demo/projects/webapp',
    minutesAgo: 60 * 26,
    turns: [
      {
        user: 'Why does the build cache miss after every branch switch?',
        assistant:
          'The cache key includes the absolute checkout path and the git HEAD; switching branches changes HEAD. Keying on the lockfile hash instead keeps hits across branches.',
      },
    ],
  },
  {
    key: 'notes',
    name: 'Release notes 2.3',
    cwd: '/home/demo/projects/shop',
    minutesAgo: 60 * 24 * 9,
    archived: true,
    turns: [
      {
        user: 'Draft release notes for version 2.3 from the merged pull requests.',
        assistant:
          '## 2.3\n- Faster checkout page\n- PayPal refunds\n- Fixed currency rounding in invoices',
      },
    ],
  },
];

function textContent(role: 'user' | 'assistant', text: string) {
  return [{ type: role === 'user' ? 'input_text' : 'output_text', text }];
}

function demoItems(thread: DemoThread, id: string): RolloutItem[] {
  const items: { type: string; payload: Record<string, unknown> }[] = [];
  let tokens = 0;
  thread.turns.forEach((turn, index) => {
    const turnId = `${id.slice(0, 8)}-turn-${index + 1}`;
    items.push({ type: 'event_msg', payload: { type: 'task_started', turn_id: turnId } });
    items.push({
      type: 'turn_context',
      payload: {
        turn_id: turnId,
        cwd: thread.cwd,
        approval_policy: 'on-request',
        sandbox_policy: { type: 'workspace-write' },
        model: 'gpt-5',
        effort: 'medium',
        summary: 'auto',
      },
    });
    items.push({
      type: 'response_item',
      payload: { type: 'message', role: 'user', content: textContent('user', turn.user) },
    });
    items.push({
      type: 'event_msg',
      payload: {
        type: 'user_message',
        message: turn.user,
        images: [],
        local_images: [],
        text_elements: [],
      },
    });
    if (turn.tool) {
      const callId = `call_${randomBytes(6).toString('hex')}`;
      items.push({
        type: 'response_item',
        payload: {
          type: 'function_call',
          name: turn.tool.name,
          arguments: turn.tool.args,
          call_id: callId,
        },
      });
      items.push({
        type: 'response_item',
        payload: { type: 'function_call_output', call_id: callId, output: turn.tool.output },
      });
    }
    items.push({ type: 'event_msg', payload: { type: 'agent_message', message: turn.assistant } });
    items.push({
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'assistant',
        content: textContent('assistant', turn.assistant),
      },
    });
    tokens += 1200 + turn.user.length + turn.assistant.length;
    items.push({
      type: 'event_msg',
      payload: {
        type: 'token_count',
        info: {
          total_token_usage: {
            input_tokens: tokens - 200,
            cached_input_tokens: 0,
            output_tokens: 200,
            reasoning_output_tokens: 0,
            total_tokens: tokens,
          },
        },
      },
    });
    items.push({
      type: 'event_msg',
      payload: { type: 'task_complete', turn_id: turnId, last_agent_message: turn.assistant },
    });
  });
  return items as RolloutItem[];
}

/** Creates the demo home once (idempotent: a complete demo home is left as it is). */
export async function ensureDemoHome(path: string): Promise<DemoHome> {
  if (existsSync(join(path, MARKER))) return { created: false, threads: DEMO_THREADS.length };
  await mkdir(path, { recursive: true });
  const now = Date.now();
  const ids = new Map<string, string>();
  for (const thread of [...DEMO_THREADS].sort((a, b) => b.minutesAgo - a.minutesAgo)) {
    ids.set(thread.key, newThreadId(now - thread.minutesAgo * 60_000));
  }
  for (const thread of DEMO_THREADS) {
    const id = ids.get(thread.key)!;
    const start = new Date(now - thread.minutesAgo * 60_000);
    const parentId = thread.parentKey ? (ids.get(thread.parentKey) ?? null) : null;
    const source: SessionSource = parentId
      ? {
          subagent: {
            thread_spawn: {
              parent_thread_id: parentId,
              depth: 1,
              agent_nickname: thread.nickname ?? null,
              agent_role: 'reviewer',
            },
          },
        }
      : 'cli';
    const recorder = RolloutRecorder.create({
      codexHome: path,
      threadId: id,
      cwd: thread.cwd,
      originator: 'skein_demo',
      cliVersion: `skein-${SKEIN_VERSION}`,
      source,
      modelProvider: 'openai',
      parentThreadId: parentId,
      git: null,
      createdAt: start,
    });
    const items = demoItems(thread, id);
    items.forEach((item, i) => {
      recorder.record([item], { timestamp: new Date(start.getTime() + (i + 1) * 400) });
    });
    await recorder.shutdown();
    let file = recorder.path;
    if (thread.archived) {
      const target = archivedPathFor(path, basename(file));
      await mkdir(join(target, '..'), { recursive: true });
      await rename(file, target);
      file = target;
    }
    const touched = (start.getTime() + (items.length + 1) * 400) / 1000;
    await utimes(file, touched, touched);
    if (thread.name) {
      await appendSessionIndexEntry(
        path,
        id,
        thread.name,
        new Date(start.getTime() + 1000).toISOString(),
      );
    }
  }
  await writeFile(join(path, MARKER), 'A demo Codex home made by skein. Safe to delete.\n');
  return { created: true, threads: DEMO_THREADS.length };
}
