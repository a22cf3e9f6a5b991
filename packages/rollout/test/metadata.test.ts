import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ThreadId } from '@skein/state';
import { FIXTURE_NAMES, installFixtureHome, makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  applyRolloutItems,
  encodeSessionSource,
  extractThreadMetadata,
  extractThreadMetadataByFullRead,
  extractThreadMetadataFromFile,
  extractThreadMetadataFromFileSync,
  extractThreadMetadataFromPrescan,
  type FileMetadataResult,
  type RolloutItem,
  readRollout,
} from '../src/index.js';
import { PrescanBatchBuilder, prescannedFile } from '../src/state-db/prescan-batch.js';
import {
  agentMessageLine,
  assistantResponseLine,
  sessionMetaLine,
  THREAD_A,
  THREAD_B,
  tokenCountLine,
  turnContextLine,
  userMessageLine,
  writeRolloutFile,
} from './helpers.js';

/**
 * Extraction the way the backfill's reader thread feeds it: `paths` scanned into one batch
 * (offsets shared across files), then extracted from the batch; null for a file the batch left
 * to the main thread.
 */
function extractByPrescan(
  paths: string[],
  defaultProvider: string,
  maxFileBytes?: number,
): Array<FileMetadataResult | null> {
  const batch = new PrescanBatchBuilder(maxFileBytes);
  for (const path of paths) batch.scanFile(path);
  const data = Buffer.from(batch.data.buffer, 0, batch.length);
  return paths.map((path, slot) => {
    const prescan = prescannedFile(batch.meta, batch.records, data, slot);
    return prescan === null
      ? null
      : extractThreadMetadataFromPrescan(path, { defaultProvider }, prescan);
  });
}

const PATH = `/h/sessions/2025/01/03/rollout-2025-01-03T12-00-00-${THREAD_A}.jsonl`;
const opts = { rolloutPath: PATH, defaultProvider: 'openai' };
const item = (line: object) => {
  const { timestamp: _t, ...rest } = line as Record<string, unknown>;
  return rest as RolloutItem;
};
const meta = (overrides: Record<string, unknown> = {}) =>
  item(sessionMetaLine(THREAD_A, overrides));
const user = (message: string, extra: Record<string, unknown> = {}): RolloutItem => ({
  type: 'event_msg',
  payload: { type: 'user_message', message, images: [], local_images: [], ...extra },
});

describe('metadata extraction (pure)', () => {
  it('builds from the first session_meta and applies items in order', () => {
    const out = extractThreadMetadata(
      [
        meta({ git: { commit_hash: 'abc', branch: 'main', repository_url: 'https://x/r.git' } }),
        item(turnContextLine()),
        user('Hello legacy A'),
        item(tokenCountLine(42)),
        user('second'),
      ],
      opts,
    );
    expect(out?.metadata).toMatchObject({
      id: THREAD_A,
      rolloutPath: PATH,
      createdAtMs: Date.parse('2025-01-03T12:00:00.000Z'),
      source: 'cli',
      modelProvider: 'openai',
      cwd: '/home/dev/project',
      cliVersion: '0.1.0',
      title: 'Hello legacy A',
      preview: 'Hello legacy A',
      firstUserMessage: 'Hello legacy A',
      tokensUsed: 42,
      model: 'gpt-5',
      reasoningEffort: 'high',
      approvalMode: 'never',
      sandboxPolicy: '{"type":"read-only"}',
      gitSha: 'abc',
      gitBranch: 'main',
      gitOriginUrl: 'https://x/r.git',
      historyMode: 'legacy',
      originator: 'codex_cli_rs',
    });
  });

  it('response_item user messages do not set title or preview', () => {
    const out = extractThreadMetadata(
      [
        meta(),
        {
          type: 'response_item',
          payload: {
            type: 'message',
            role: 'user',
            content: [{ type: 'input_text', text: 'hidden' }],
          },
        },
      ],
      opts,
    );
    expect(out?.metadata.preview).toBe('');
    expect(out?.metadata.title).toBe('');
    expect(out?.metadata.firstUserMessage).toBe('');
  });

  it('strips the request marker, previews image-only messages as [Image], skips blanks', () => {
    const marker = extractThreadMetadata(
      [meta(), user('context...\n## My request for Codex:\n  do the thing  ')],
      opts,
    );
    expect(marker?.metadata.preview).toBe('do the thing');
    expect(marker?.metadata.title).toBe('do the thing');
    const image = extractThreadMetadata([meta(), user('', { images: ['data:x'] })], opts);
    expect(image?.metadata.preview).toBe('[Image]');
    expect(image?.metadata.firstUserMessage).toBe('[Image]');
    expect(image?.metadata.title).toBe('');
    const blank = extractThreadMetadata([meta(), user('   ')], opts);
    expect(blank?.metadata.preview).toBe('');
    expect(blank?.metadata.firstUserMessage).toBe('');
  });

  it('a goal sets only the preview; a later user message sets title and first message', () => {
    const out = extractThreadMetadata(
      [
        meta(),
        {
          type: 'event_msg',
          payload: { type: 'thread_goal_updated', goal: { objective: ' Ship it ' } },
        },
        user('actual request'),
      ],
      opts,
    );
    expect(out?.metadata.preview).toBe('Ship it');
    expect(out?.metadata.title).toBe('actual request');
    expect(out?.metadata.firstUserMessage).toBe('actual request');
  });

  it('turn_context never overrides the session cwd but fills a missing one', () => {
    const keep = extractThreadMetadata(
      [meta(), item(turnContextLine({ cwd: '/elsewhere' }))],
      opts,
    );
    expect(keep?.metadata.cwd).toBe('/home/dev/project');
    const fill = extractThreadMetadata(
      [meta({ cwd: '' }), item(turnContextLine({ cwd: '/elsewhere' }))],
      opts,
    );
    expect(fill?.metadata.cwd).toBe('/elsewhere');
    const profile = extractThreadMetadata(
      [meta(), item(turnContextLine({ permission_profile: { type: 'managed' } }))],
      opts,
    );
    expect(profile?.metadata.sandboxPolicy).toBe('{"type":"managed"}');
  });

  it('ignores a forked parent session_meta and records the last memory_mode', () => {
    const out = extractThreadMetadata(
      [
        meta({ forked_from_id: THREAD_B }),
        item(
          sessionMetaLine(THREAD_B, { cwd: '/parent', source: 'exec', memory_mode: 'disabled' }),
        ),
      ],
      opts,
    );
    expect(out?.metadata.cwd).toBe('/home/dev/project');
    expect(out?.metadata.source).toBe('cli');
    expect(out?.metadata.forkedFromId).toBe(THREAD_B);
    expect(out?.memoryMode).toBe('disabled');
  });

  it('encodes sources like the DB does and copies sub-agent fields', () => {
    expect(encodeSessionSource(undefined)).toBe('vscode');
    expect(encodeSessionSource('exec')).toBe('exec');
    expect(encodeSessionSource('brand-new')).toBe('unknown');
    const spawn = {
      subagent: {
        thread_spawn: {
          parent_thread_id: THREAD_B,
          depth: 1,
          agent_path: null,
          agent_nickname: 'Harvey',
          agent_role: null,
        },
      },
    };
    const out = extractThreadMetadata([meta({ source: spawn })], opts);
    expect(out?.metadata.source).toBe(JSON.stringify(spawn));
    expect(out?.metadata.parentThreadId).toBe(THREAD_B);
    expect(out?.metadata.agentNickname).toBe('Harvey');
  });

  it('falls back to the file name when there is no session_meta', () => {
    const out = extractThreadMetadata([user('orphan')], {
      ...opts,
      fallback: { threadId: THREAD_A as ThreadId, createdAtMs: 5000 },
    });
    expect(out?.metadata).toMatchObject({
      id: THREAD_A,
      createdAtMs: 5000,
      source: 'vscode',
      preview: 'orphan',
    });
    expect(extractThreadMetadata([user('orphan')], opts)).toBeNull();
  });

  it('applyRolloutItems returns an updated copy (live sync)', () => {
    const base = extractThreadMetadata([meta()], opts);
    if (base === null) throw new Error('no metadata');
    const next = applyRolloutItems(
      base.metadata,
      [user('later'), item(tokenCountLine(9))],
      'openai',
    );
    expect(next.preview).toBe('later');
    expect(next.tokensUsed).toBe(9);
    expect(base.metadata.preview).toBe('');
  });
});

function rolloutFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.jsonl') && name.includes('rollout-'))
    .map((name) => join(dir, name));
}

describe.each(FIXTURE_NAMES)('metadata from fixture %s', (fixture) => {
  const { home, manifest } = installFixtureHome(fixture);
  const files = rolloutFiles(home);

  it('fast extraction equals the full-parse path for every rollout', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const fast = await extractThreadMetadataFromFile(file, { defaultProvider: 'openai' });
      const full = await extractThreadMetadataByFullRead(file, { defaultProvider: 'openai' });
      const sync = extractThreadMetadataFromFileSync(file, { defaultProvider: 'openai' });
      expect(fast).toEqual(full);
      expect(sync).toEqual(full);
    }
    const prescanned = extractByPrescan(files, 'openai');
    for (const [index, file] of files.entries()) {
      expect(prescanned[index], file).toEqual(
        await extractThreadMetadataByFullRead(file, { defaultProvider: 'openai' }),
      );
    }
  });

  it('matches the manifest: id, cwd, first user message, mtime as updated_at', async () => {
    for (const thread of manifest.threads.filter((t) => t.persisted)) {
      const file = files.find((f) => f.includes(thread.id));
      expect(file, thread.key).toBeDefined();
      if (file === undefined) continue;
      const { metadata } = await extractThreadMetadataFromFile(file, { defaultProvider: 'openai' });
      expect(metadata.id).toBe(thread.id);
      expect(metadata.cwd).toBe(thread.cwd);
      const own = thread.userMessages.slice(
        (thread as { inheritedTurnCount?: number }).inheritedTurnCount ?? 0,
      );
      const expectedFirst = manifest.rolloutFormat === 'legacy' ? thread.userMessages[0] : own[0];
      expect(metadata.firstUserMessage, thread.key).toBe(expectedFirst);
      expect(metadata.parentThreadId).toBe(thread.parentThreadId);
      expect(metadata.forkedFromId).toBe(thread.forkedFromId);
      const rel = Object.keys(manifest.mtimes).find((k) => k.includes(thread.id));
      if (rel !== undefined) expect(metadata.updatedAtMs).toBe(manifest.mtimes[rel]);
    }
  });
});

describe('fast extraction on generated files', () => {
  it('equals the full-parse path with corruptions, unknown kinds and odd spacing', async () => {
    const dir = makeTempDir();
    const cases: Array<{ lines: Array<string | object>; torn?: string }> = [
      {
        lines: [
          sessionMetaLine(THREAD_A),
          assistantResponseLine('a'),
          '{"timestamp":"x","type":"response_item","payload":{"type":"mess{"timestamp":"y","type":"event_msg","payload":{"type":"agent_message","message":"m"}}',
          'garbage',
          // A valid line holding an envelope-like object, then two torn lines in a row.
          '{"timestamp":"x","type":"response_item","payload":{"type":"message","m":{"timestamp":"y","type":"z"}}}',
          '{"timestamp":"x","type":"event_msg","payload":{"type":"agent_message","message":"cut"}{"timestamp":"y","type":"event_msg","payload":{"type":"token_count","info":null}}',
          '{"timestamp":"x","type":"response_item","payload":{}}{"timestamp":"y","type":"response_item","payload":{"type":"message"}}',
          '{"timestamp":"x","type":"response_item","payload":{"type":"message"',
          { timestamp: 'x', type: 'mystery', payload: {} },
          '{"timestamp": "x", "type": "event_msg", "payload": {"type": "user_message", "message": "spaced", "images": []}}',
          {
            timestamp: 'x',
            type: 'event_msg',
            payload: {
              type: 'item_completed',
              item: { type: 'UserMessage', content: [{ type: 'text', text: 'paged' }] },
            },
          },
          tokenCountLine(77),
          {
            timestamp: 'x',
            type: 'event_msg',
            payload: { message: 'no type first', type: 'user_message' },
          },
          { timestamp: 'x', ordinal: 4, type: 'world_state', payload: { full: true } },
          turnContextLine({ model: 'm2' }),
          agentMessageLine('done'),
        ],
        torn: '{"timestamp":"x","type":"event_msg","payload":{"type":"token_count","info":{"total_token_',
      },
      { lines: [userMessageLine('no meta'), agentMessageLine('x')] },
      {
        lines: [sessionMetaLine(THREAD_A, { history_mode: 'paginated' }), tokenCountLine(5)],
        torn: JSON.stringify(userMessageLine('last line, valid, no newline')),
      },
    ];
    for (const [index, testCase] of cases.entries()) {
      const path = join(dir, `rollout-2025-01-03T12-00-0${index}-${THREAD_A}.jsonl`);
      writeRolloutFile(
        path,
        testCase.lines,
        testCase.torn === undefined ? {} : { torn: testCase.torn },
      );
      const fast = await extractThreadMetadataFromFile(path, { defaultProvider: 'p' });
      const full = await extractThreadMetadataByFullRead(path, { defaultProvider: 'p' });
      expect(fast, `case ${index}`).toEqual(full);
      expect(extractByPrescan([path], 'p')[0], `case ${index}`).toEqual(full);
      const read = await readRollout(path);
      expect(fast.parseErrors).toBe(read.parseErrors);
    }
    const randomDir = makeTempDir();
    // Randomized: many line shapes in random order (seeded, bounded).
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pool: Array<string | object> = [
      assistantResponseLine('r'),
      userMessageLine('u1'),
      userMessageLine(''),
      agentMessageLine('a'),
      tokenCountLine(3),
      tokenCountLine(11),
      turnContextLine({ model: 'mm', effort: null }),
      {
        timestamp: 'x',
        type: 'event_msg',
        payload: { type: 'thread_goal_updated', goal: { objective: 'g' } },
      },
      sessionMetaLine(THREAD_B),
      'broken {',
      '',
      { timestamp: 'x', type: 'compacted', payload: { message: 'c' } },
      { timestamp: 'x', type: 'event_msg', payload: { type: 'task_started', turn_id: 't' } },
    ];
    for (let file = 0; file < 20; file += 1) {
      const lines: Array<string | object> = [sessionMetaLine(THREAD_A)];
      for (let i = 0; i < 30; i += 1) lines.push(pool[Math.floor(rand() * pool.length)] ?? '');
      const path = join(randomDir, `rollout-2025-01-03T12-00-00-${THREAD_A}-${file}.jsonl`);
      writeFileSync(path, '');
      writeRolloutFile(path, lines);
      const fast = await extractThreadMetadataFromFile(path, { defaultProvider: 'p' });
      const full = await extractThreadMetadataByFullRead(path, { defaultProvider: 'p' });
      expect(fast).toEqual(full);
      expect(extractByPrescan([path], 'p')[0]).toEqual(full);
    }
  });
});

describe('prescanned extraction (the backfill reader thread)', () => {
  it('finds token counts, turn contexts and user messages anywhere in a file, across a batch', async () => {
    const dir = makeTempDir();
    const filler = (n: number) =>
      Array.from({ length: n }, (_, i) => assistantResponseLine(`filler ${i} ${'x'.repeat(200)}`));
    const cases: Array<Array<string | object>> = [
      // Token count and turn context only in the middle; head and tail carry neither.
      [
        sessionMetaLine(THREAD_A),
        ...filler(40),
        turnContextLine({ model: 'middle-model', effort: 'low' }),
        userMessageLine('asked in the middle'),
        tokenCountLine(4242),
        ...filler(40),
      ],
      // The last token count is torn inside a line (a crash then an append): the earlier wins.
      [
        sessionMetaLine(THREAD_A),
        tokenCountLine(10),
        ...filler(5),
        `${JSON.stringify(tokenCountLine(99)).slice(0, 60)}${JSON.stringify(agentMessageLine('after crash'))}`,
        ...filler(5),
      ],
      // A later session_meta of the same thread (memory mode) and a goal before any message.
      [
        sessionMetaLine(THREAD_A),
        {
          timestamp: 'x',
          type: 'event_msg',
          payload: { type: 'thread_goal_updated', goal: { objective: 'the goal' } },
        },
        ...filler(10),
        sessionMetaLine(THREAD_A, { memory_mode: 'disabled' }),
        userMessageLine('then a message'),
        turnContextLine({ approval_policy: null, sandbox_policy: null, model: 'late' }),
      ],
    ];
    const paths = cases.map((lines, index) => {
      const path = join(dir, `rollout-2025-01-03T12-00-0${index}-${THREAD_A}.jsonl`);
      writeRolloutFile(path, lines);
      return path;
    });
    const missing = join(dir, `rollout-2025-01-03T12-00-09-${THREAD_B}.jsonl`);
    const prescanned = extractByPrescan([...paths, missing], 'p');
    for (const [index, path] of paths.entries()) {
      const full = await extractThreadMetadataByFullRead(path, { defaultProvider: 'p' });
      expect(prescanned[index], `case ${index}`).toEqual(full);
    }
    expect(prescanned[0]?.metadata).toMatchObject({
      tokensUsed: 4242,
      model: 'middle-model',
      firstUserMessage: 'asked in the middle',
    });
    expect(prescanned[1]?.metadata.tokensUsed).toBe(10);
    expect(prescanned[2]?.memoryMode).toBe('disabled');
    // Unreadable in the batch: left to the main thread, which reports its own error.
    expect(prescanned[3]).toBeNull();
    // Too many candidate bytes for the batch: left to the main thread too.
    expect(extractByPrescan(paths, 'p', 64)).toEqual([null, null, null]);
  });
});
