/**
 * Threads on model providers config.toml does not define, against the real codex-cli 0.169.0:
 * `thread/start` and `thread/fork` naming one fail to load their configuration, `thread/resume`
 * of a thread that ran on one is refused with a typed `modelProviderNotConfigured` error, and a
 * resume may not move a thread to another provider. The built-in providers (`openai`, `ollama`,
 * `lmstudio`, `amazon-bedrock`; not `oss`) and every `[model_providers.<id>]` table are
 * configured. Each server runs on its own copy of one home; every answer must be equal.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureHomeDir, makeTempDir, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skeinBuilt, withServer } from './support/differential.js';
import type { Message } from './support/rpc-process.js';

const CONFIG_TOML = [
  'model = "config-model"',
  '[model_providers.mock]',
  'name = "mock"',
  'base_url = "http://127.0.0.1:9/v1"',
  'wire_api = "responses"',
  '',
  "[model_providers.'quoted-id'] # a literal key",
  'name = "quoted"',
  'base_url = "http://127.0.0.1:9/v1"',
  '',
].join('\n');

/** Thread name → the provider its session meta records. */
const PROVIDERS = {
  onMock: 'mock',
  onQuoted: 'quoted-id',
  onGone: 'gone',
  onOss: 'oss',
  onOllama: 'ollama',
  onOpenai: 'openai',
  onOpenaiToo: 'openai',
} as const;
type ThreadName = keyof typeof PROVIDERS;

const threads = new Map<ThreadName, string>();
/** A thread no home has (one id for both sides). */
const MISSING_THREAD_ID = randomUUID();
const temps: string[] = [];

/** The session meta line of a real 0.131 rollout, re-addressed to a new thread and provider. */
function sessionMeta(threadId: string, cwd: string, provider: string): Record<string, unknown> {
  const sessions = join(fixtureHomeDir('codex-0.131'), 'sessions');
  const rel = (readdirSync(sessions, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.jsonl'))
    .sort()[0] as string;
  const line = JSON.parse(readFileSync(join(sessions, rel), 'utf8').split('\n')[0] as string) as {
    payload: Record<string, unknown>;
  };
  return { ...line, payload: { ...line.payload, id: threadId, cwd, model_provider: provider } };
}

function writeHome(home: string): void {
  writeFileSync(join(home, 'config.toml'), CONFIG_TOML);
  const dir = join(home, 'sessions', '2025', '01', '02');
  mkdirSync(dir, { recursive: true });
  Object.entries(PROVIDERS).forEach(([name, provider], n) => {
    const threadId = randomUUID();
    threads.set(name as ThreadName, threadId);
    const second = String(n).padStart(2, '0');
    const message = {
      type: 'event_msg',
      payload: { type: 'user_message', message: `hello from ${name}`, images: [] },
    };
    const lines = [sessionMeta(threadId, home, provider), message].map((line, i) =>
      JSON.stringify({ timestamp: `2025-01-02T03:04:${second}.${i}00Z`, ...line }),
    );
    writeFileSync(
      join(dir, `rollout-2025-01-02T03-04-${second}-${threadId}.jsonl`),
      `${lines.join('\n')}\n`,
    );
  });
}

const id = (name: ThreadName) => threads.get(name) as string;

/** The requests, in order; each names what it checks. */
function requests(): [label: string, method: string, params: Record<string, unknown>][] {
  return [
    ['start on an unknown provider', 'thread/start', { modelProvider: 'gone' }],
    ['start on oss (not built in)', 'thread/start', { modelProvider: 'oss' }],
    ['start on a configured provider', 'thread/start', { modelProvider: 'mock' }],
    ['resume a thread on an unknown provider', 'thread/resume', { threadId: id('onGone') }],
    ['resume a thread on oss', 'thread/resume', { threadId: id('onOss') }],
    ['resume a thread on a built-in provider', 'thread/resume', { threadId: id('onOllama') }],
    ['resume a thread on a quoted table id', 'thread/resume', { threadId: id('onQuoted') }],
    [
      'resume onto another configured provider',
      'thread/resume',
      { threadId: id('onMock'), modelProvider: 'openai' },
    ],
    [
      'resume onto an unknown provider',
      'thread/resume',
      { threadId: id('onOpenai'), modelProvider: 'gone' },
    ],
    [
      'resume naming its own provider',
      'thread/resume',
      { threadId: id('onOpenaiToo'), modelProvider: 'openai' },
    ],
    ['fork a thread on an unknown provider', 'thread/fork', { threadId: id('onGone') }],
    [
      'fork onto an unknown provider',
      'thread/fork',
      { threadId: id('onOpenai'), modelProvider: 'gone' },
    ],
    [
      'fork a missing thread onto an unknown provider',
      'thread/fork',
      { threadId: MISSING_THREAD_ID, modelProvider: 'gone' },
    ],
  ];
}

/** What is compared: the whole error, or the providers a success answers. */
function outcome(answer: Message): unknown {
  if ('error' in answer) return { error: answer.error };
  const result = answer.result as { modelProvider?: unknown; thread?: { modelProvider?: unknown } };
  return { modelProvider: result.modelProvider, threadModelProvider: result.thread?.modelProvider };
}

const answers = { codex: new Map<string, unknown>(), skein: new Map<string, unknown>() };

async function play(side: 'codex' | 'skein', source: string): Promise<void> {
  const home = makeTempDir(`skein-providers-${side}-`);
  temps.push(home);
  cpSync(source, home, { recursive: true });
  await withServer(side, home, 'skein_providers', async (proc) => {
    for (const [label, method, params] of requests()) {
      answers[side].set(label, outcome(await proc.request(method, params)));
    }
  });
}

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  const source = makeTempDir('skein-providers-');
  temps.push(source);
  writeHome(source);
  await play('codex', source);
  await play('skein', source);
}, 120_000);

afterAll(() => {
  for (const dir of temps) removeTempDir(dir);
});

describe('model providers config.toml does not define', () => {
  it('0.169.0 still refuses what this test expects it to refuse', () => {
    const refused = [...answers.codex].filter(([, answer]) => 'error' in (answer as object));
    expect(refused.map(([label]) => label)).toEqual([
      'start on an unknown provider',
      'start on oss (not built in)',
      'resume a thread on an unknown provider',
      'resume a thread on oss',
      'resume onto another configured provider',
      'resume onto an unknown provider',
      'fork onto an unknown provider',
      'fork a missing thread onto an unknown provider',
    ]);
  });

  it.each(requests().map(([label]) => label))('%s: Skein answers as 0.169.0', (label) => {
    expect(answers.skein.get(label)).toEqual(answers.codex.get(label));
  });
});
