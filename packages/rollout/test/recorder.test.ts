import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newThreadId } from '@skein/state';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  appendRolloutItems,
  FsyncPolicy,
  formatRolloutFileName,
  isPersistedRolloutItem,
  type RolloutItem,
  RolloutRecorder,
  readHeadSummary,
  readRollout,
  readRolloutHistory,
} from '../src/index.js';
import { rolloutDistScript, zstdStore } from './helpers.js';

const user = (message: string): RolloutItem => ({
  type: 'event_msg',
  payload: { type: 'user_message', message, images: [], local_images: [], text_elements: [] },
});
const agent = (message: string): RolloutItem => ({
  type: 'event_msg',
  payload: { type: 'agent_message', message, phase: null, memory_citation: null },
});
const assistant = (text: string): RolloutItem => ({
  type: 'response_item',
  payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] },
});
const turnContext: RolloutItem = {
  type: 'turn_context',
  payload: {
    turn_id: 't1',
    cwd: '/w',
    approval_policy: 'never',
    sandbox_policy: { type: 'read-only' },
    model: 'gpt-5',
    summary: 'auto',
  },
};

function newRecorder(home: string, createdAt = new Date(), fsyncPolicy?: FsyncPolicy) {
  return RolloutRecorder.create({
    codexHome: home,
    threadId: newThreadId(),
    cwd: '/w',
    originator: 'skein_test',
    cliVersion: '0.1.0',
    source: 'cli',
    modelProvider: 'openai',
    baseInstructions: 'be brief',
    git: null,
    createdAt,
    ...(fsyncPolicy === undefined ? {} : { fsyncPolicy }),
  });
}

/** The messages of a rollout's `event_msg` lines, in file order. */
async function eventMessages(path: string): Promise<string[]> {
  const read = await readRollout(path);
  expect(read.parseErrors).toBe(0);
  return read.lines.flatMap((l) => (l.type === 'event_msg' ? [String(l.payload.message)] : []));
}

/** Runs a script in a child Node process with `home` as its argument; its stdout on exit 0. */
function runChildScript(script: string, home: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`child exited with ${code}`));
    });
  });
}

describe('RolloutRecorder', () => {
  it('creates no file before the first user message, then writes meta + buffered items', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([
      turnContext,
      { type: 'event_msg', payload: { type: 'task_started', turn_id: 't1' } },
    ]);
    await recorder.flush();
    expect(existsSync(recorder.path)).toBe(false);
    expect(recorder.materialized).toBe(false);
    recorder.record([user('hello'), agent('hi'), assistant('hi')]);
    await recorder.flush();
    expect(recorder.materialized).toBe(true);
    const read = await readRolloutHistory(recorder.path);
    expect(read.threadId).toBe(recorder.threadId);
    expect(read.lines.map((l) => (l.type === 'event_msg' ? l.payload.type : l.type))).toEqual([
      'session_meta',
      'turn_context',
      'task_started',
      'user_message',
      'agent_message',
      'response_item',
    ]);
    await recorder.shutdown();
  });

  it('round-trips items exactly and writes the legacy line format', async () => {
    const home = makeTempDir();
    const created = new Date(2026, 0, 2, 3, 4, 5, 678);
    const recorder = newRecorder(home, created);
    const items: RolloutItem[] = [
      user('first'),
      turnContext,
      agent('reply'),
      assistant('reply'),
      { type: 'compacted', payload: { message: 'summary', replacement_history: [] } },
      { type: 'event_msg', payload: { type: 'token_count', info: null, rate_limits: null } },
    ];
    recorder.record(items, { timestamp: new Date(Date.UTC(2026, 0, 2, 1, 2, 3, 4)) });
    await recorder.shutdown();
    expect(recorder.path).toBe(
      join(home, 'sessions', '2026', '01', '02', formatRolloutFileName(recorder.threadId, created)),
    );
    const text = readFileSync(recorder.path, 'utf8');
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatch(
        /^\{"timestamp":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z","type":"[a-z_]+","payload":\{/,
      );
      expect(line).not.toContain('"ordinal"');
      expect(line).toBe(JSON.stringify(JSON.parse(line))); // compact
    }
    expect(lines[0]).toBe(
      `{"timestamp":"${created.toISOString()}","type":"session_meta","payload":{"id":"${recorder.threadId}","timestamp":"${created.toISOString()}","cwd":"/w","originator":"skein_test","cli_version":"0.1.0","source":"cli","model_provider":"openai","base_instructions":{"text":"be brief"}}}`,
    );
    expect(lines[1]).toBe(
      '{"timestamp":"2026-01-02T01:02:03.004Z","type":"event_msg","payload":{"type":"user_message","message":"first","images":[],"local_images":[],"text_elements":[]}}',
    );
    const read = await readRollout(recorder.path);
    const back = read.lines.slice(1).map(({ timestamp: _t, ...item }) => item);
    expect(back).toEqual(items);
  });

  it('applies the persistence policy', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    const dropped: RolloutItem[] = [
      { type: 'event_msg', payload: { type: 'exec_command_begin', call_id: 'c' } },
      { type: 'event_msg', payload: { type: 'item_completed', item: { type: 'AgentMessage' } } },
      { type: 'response_item', payload: { type: 'compaction_trigger' } },
      { type: 'world_state', payload: {} },
      { type: 'opaque', kind: 'mystery', payload: {} },
    ];
    for (const item of dropped) expect(isPersistedRolloutItem(item)).toBe(false);
    const plan: RolloutItem = {
      type: 'event_msg',
      payload: { type: 'item_completed', item: { type: 'Plan' } },
    };
    expect(isPersistedRolloutItem(plan)).toBe(true);
    // The settings 0.169 records when it resumes a legacy thread stay in a legacy rollout.
    const settings: RolloutItem = {
      type: 'event_msg',
      payload: { type: 'thread_settings_applied', thread_id: 't', settings: {} },
    };
    expect(isPersistedRolloutItem(settings, 'legacy')).toBe(true);
    recorder.record([user('x'), ...dropped, plan, settings]);
    await recorder.shutdown();
    const read = await readRollout(recorder.path);
    expect(read.lines).toHaveLength(4);
  });

  it('persist twice leaves identical bytes', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([agent('before user')]);
    await recorder.persist();
    const once = readFileSync(recorder.path);
    await recorder.persist();
    await recorder.flush();
    expect(readFileSync(recorder.path)).toEqual(once);
    expect((await readRollout(recorder.path)).lines).toHaveLength(2);
  });

  it('keeps items when the sessions path is blocked and writes them once unblocked', async () => {
    const home = makeTempDir();
    writeFileSync(join(home, 'sessions'), 'not a directory');
    const recorder = newRecorder(home);
    recorder.record([user('buffered')]);
    await expect(recorder.persist()).rejects.toThrow();
    expect(recorder.materialized).toBe(false);
    rmSync(join(home, 'sessions'));
    await recorder.flush();
    const read = await readRollout(recorder.path);
    expect(read.lines.map((l) => l.type)).toEqual(['session_meta', 'event_msg']);
  });

  it('resumes by appending without a new session_meta, after a torn tail', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([user('one')]);
    await recorder.shutdown();
    writeFileSync(
      recorder.path,
      `${readFileSync(recorder.path, 'utf8')}{"timestamp":"x","type":"ev`,
    );
    const resumed = await RolloutRecorder.resume(recorder.path);
    expect(resumed.threadId).toBe(recorder.threadId);
    resumed.record([user('two')]);
    await resumed.shutdown();
    const read = await readRollout(recorder.path);
    expect(read.parseErrors).toBe(1);
    expect(read.lines.filter((l) => l.type === 'session_meta')).toHaveLength(1);
    expect(read.lines.at(-1)).toMatchObject({ type: 'event_msg', payload: { message: 'two' } });
  });

  it('appends batches to an open file as exact UTF-8, with byte ranges, small and large', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([user('one')]);
    await recorder.shutdown();
    // A torn tail: the first batch after the resume starts on a new line.
    writeFileSync(recorder.path, `${readFileSync(recorder.path, 'utf8')}{"timestamp":"x"`);
    const written: { start: number; end: number }[] = [];
    const resumed = await RolloutRecorder.resume(recorder.path, {
      onWritten: (lines) => {
        for (const line of lines) written.push({ start: line.start, end: line.end });
      },
    });
    const before = readFileSync(recorder.path).length;
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    // Multi-byte text, an astral character, a lone surrogate (JSON escapes it), and batches
    // past the shared encode buffer's sizes.
    const batches: RolloutItem[][] = [
      [user('naïve ☃ 😀'), agent(`lone \ud800 surrogate`)],
      [assistant('x'.repeat(200_000))],
      [agent('é'.repeat(700_000)), user('after the big one')],
      [agent('last')],
    ];
    for (const batch of batches) {
      resumed.record(batch, { timestamp: at });
      // Each batch is written before the call returns (no flush needed for the bytes).
      await resumed.writeBuffered();
    }
    await resumed.flush();
    await resumed.shutdown();
    const expected = Buffer.from(
      `\n${batches
        .flat()
        .map((item) => `${JSON.stringify({ timestamp: at.toISOString(), ...item })}\n`)
        .join('')}`,
      'utf8',
    );
    const bytes = readFileSync(recorder.path);
    expect(bytes.subarray(before).equals(expected)).toBe(true);
    expect(written).toHaveLength(6);
    expect(written[0]?.start).toBe(before + 1);
    for (const [index, range] of written.entries()) {
      const line = bytes.subarray(range.start, range.end).toString('utf8');
      expect(line.endsWith('\n')).toBe(true);
      expect(JSON.parse(line)).toEqual({ timestamp: at.toISOString(), ...batches.flat()[index] });
      if (index > 0) expect(range.start).toBe(written[index - 1]?.end);
    }
    expect(written.at(-1)?.end).toBe(bytes.length);
  });

  it('writes a line recorded from the onWritten listener once, after the batch that told it', async () => {
    const home = makeTempDir();
    const threadId = newThreadId();
    const path = join(home, formatRolloutFileName(threadId, new Date()));
    let recordFromListener: (() => void) | null = null;
    const recorder = RolloutRecorder.createWithSessionMeta({
      path,
      threadId,
      buildSessionMeta: async () =>
        ({
          id: threadId,
          timestamp: '2026-01-02T03:04:05.678Z',
          cwd: '/w',
          originator: 'o',
          cli_version: '1',
          source: 'cli',
        }) as never,
      onWritten: (lines) => {
        if (lines.some((line) => line.item.type === 'event_msg' && recordFromListener !== null)) {
          const record = recordFromListener;
          recordFromListener = null;
          record?.();
        }
      },
    });
    recorder.record([user('first')]);
    await recorder.flush();
    recordFromListener = () => recorder.record([agent('from the listener')]);
    recorder.record([agent('second')]);
    await recorder.flush();
    await recorder.shutdown();
    const read = await readRollout(path);
    expect(read.lines.map((l) => (l.type === 'event_msg' ? l.payload.message : l.type))).toEqual([
      'session_meta',
      'first',
      'second',
      'from the listener',
    ]);
  });

  it('resumes a .zst-only rollout by restoring the plain file', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([user('zipped')]);
    await recorder.shutdown();
    writeFileSync(`${recorder.path}.zst`, zstdStore(readFileSync(recorder.path)));
    rmSync(recorder.path);
    const resumed = await RolloutRecorder.resume(`${recorder.path}.zst`);
    resumed.record([agent('after')]);
    await resumed.shutdown();
    expect(existsSync(`${recorder.path}.zst`)).toBe(false);
    expect((await readRollout(recorder.path)).lines).toHaveLength(3);
    expect((await readHeadSummary(recorder.path)).preview).toBe('zipped');
  });

  it('appends one-shot to an unloaded (torn) rollout through the policy', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([user('one')]);
    await recorder.shutdown();
    writeFileSync(recorder.path, `${readFileSync(recorder.path, 'utf8')}{"torn`);
    const written = await appendRolloutItems(recorder.path, [
      {
        type: 'event_msg',
        payload: { type: 'thread_name_updated', thread_id: recorder.threadId, thread_name: 'n' },
      },
      agent('appended'),
    ]);
    expect(written).toBe(1); // thread_name_updated is not in the current policy
    const read = await readRollout(recorder.path);
    expect(read.parseErrors).toBe(1);
    expect(read.lines.at(-1)).toMatchObject({ payload: { message: 'appended' } });
  });

  it('createWithSessionMeta + materializeOnFlush: no file without items, caller meta built once', async () => {
    const home = makeTempDir();
    const threadId = newThreadId();
    const path = join(
      home,
      'sessions',
      '2026',
      '01',
      '02',
      formatRolloutFileName(threadId, new Date()),
    );
    let builds = 0;
    const recorder = RolloutRecorder.createWithSessionMeta({
      path,
      threadId,
      materializeOnFlush: true,
      buildSessionMeta: async () => {
        builds += 1;
        return {
          id: threadId,
          timestamp: '2026-01-02T03:04:05.678Z',
          cwd: '/caller',
          originator: 'caller',
          cli_version: '9.9.9',
          source: 'exec',
          model_provider: 'p',
        } as never;
      },
    });
    await recorder.flush();
    await recorder.writeBuffered();
    expect(existsSync(path)).toBe(false);
    expect(builds).toBe(0);
    // Not a user message, yet materialized: this recorder's owner decides when a file exists.
    recorder.record([agent('first')]);
    await recorder.writeBuffered();
    expect(recorder.materialized).toBe(true);
    recorder.record([agent('second')]);
    await recorder.writeBuffered();
    await recorder.shutdown();
    expect(builds).toBe(1);
    const read = await readRolloutHistory(path);
    expect(read.threadId).toBe(threadId);
    const meta = read.lines[0];
    expect(meta?.type).toBe('session_meta');
    expect(meta?.type === 'session_meta' && meta.payload.cwd).toBe('/caller');
    expect(read.lines.slice(1).map((l) => l.type === 'event_msg' && l.payload.message)).toEqual([
      'first',
      'second',
    ]);
  });

  it("writes ordinals and metadata in the line format and reports each line's byte range", async () => {
    const home = makeTempDir();
    const threadId = newThreadId();
    const path = join(
      home,
      'sessions',
      '2026',
      '01',
      '02',
      formatRolloutFileName(threadId, new Date()),
    );
    const written: { type: string; ordinal: number | null; start: number; end: number }[] = [];
    const recorder = RolloutRecorder.createWithSessionMeta({
      path,
      threadId,
      firstOrdinal: 7,
      metaTimestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      buildSessionMeta: async () =>
        ({
          id: threadId,
          timestamp: '2026-01-02T03:04:05.006Z',
          cwd: '/w',
          source: 'cli',
        }) as never,
      onWritten: (lines) => {
        for (const line of lines)
          written.push({
            type: line.item.type,
            ordinal: line.ordinal,
            start: line.start,
            end: line.end,
          });
      },
    });
    // 0.169's `metadata` sibling, carried by the item as a read line carries it.
    const withMetadata = {
      ...assistant('naïve ☃ — "quoted"\n'),
      metadata: { turn_id: 't1' },
    } as unknown as RolloutItem;
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 6, 0));
    recorder.record([user('ünïcode ✓'), withMetadata, agent('done')], { timestamp: at });
    await recorder.shutdown();
    const bytes = readFileSync(path);
    const lines = bytes.toString('utf8').split('\n').slice(0, -1);
    expect(lines.slice(1)).toEqual([
      JSON.stringify({ timestamp: at.toISOString(), ordinal: 8, ...user('ünïcode ✓') }),
      JSON.stringify({
        timestamp: at.toISOString(),
        ordinal: 9,
        type: 'response_item',
        payload: withMetadata.payload,
        metadata: { turn_id: 't1' },
      }),
      JSON.stringify({ timestamp: at.toISOString(), ordinal: 10, ...agent('done') }),
    ]);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ ordinal: 7, type: 'session_meta' });
    // Each reported range is exactly its line and its newline.
    expect(written.map((w) => w.ordinal)).toEqual([7, 8, 9, 10]);
    for (const [index, range] of written.entries()) {
      expect(bytes.subarray(range.start, range.end).toString('utf8')).toBe(`${lines[index]}\n`);
    }
    expect(written.at(-1)?.end).toBe(bytes.length);
  });

  it('writeBuffered rejects with the write error and keeps the items for a retry', async () => {
    const home = makeTempDir();
    const threadId = newThreadId();
    const dir = join(home, 'blocked');
    writeFileSync(dir, 'a file where a directory should be');
    const path = join(dir, formatRolloutFileName(threadId, new Date()));
    const recorder = RolloutRecorder.createWithSessionMeta({
      path,
      threadId,
      materializeOnFlush: true,
      buildSessionMeta: async () =>
        ({
          id: threadId,
          timestamp: '2026-01-02T03:04:05.678Z',
          cwd: '/w',
          originator: 'o',
          cli_version: '1',
          source: 'cli',
        }) as never,
    });
    recorder.record([agent('kept')]);
    await expect(recorder.writeBuffered()).rejects.toThrow();
    rmSync(dir);
    await recorder.writeBuffered();
    await recorder.shutdown();
    const read = await readRolloutHistory(path);
    expect(read.lines.map((l) => l.type === 'event_msg' && l.payload.message)).toEqual([
      false,
      'kept',
    ]);
  });

  it('discard drops buffered items and closes', async () => {
    const home = makeTempDir();
    const recorder = newRecorder(home);
    recorder.record([agent('never written')]);
    await recorder.discard();
    expect(existsSync(recorder.path)).toBe(false);
    expect(() => recorder.record([user('x')])).toThrow(/closed/);
  });

  it('records git facts of the cwd when it is a repository', async () => {
    const home = makeTempDir();
    const repo = makeTempDir();
    mkdirSync(join(repo, '.git', 'refs', 'heads'), { recursive: true });
    writeFileSync(join(repo, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(repo, '.git', 'refs', 'heads', 'main'), `${'a'.repeat(40)}\n`);
    writeFileSync(
      join(repo, '.git', 'config'),
      '[remote "origin"]\n\turl = https://example.com/r.git\n',
    );
    const recorder = RolloutRecorder.create({
      codexHome: home,
      threadId: newThreadId(),
      cwd: join(repo),
      originator: 'o',
      cliVersion: '1',
      source: 'cli',
      modelProvider: 'openai',
    });
    recorder.record([user('in repo')]);
    await recorder.shutdown();
    const read = await readRolloutHistory(recorder.path);
    expect(read.sessionMeta.git).toEqual({
      commit_hash: 'a'.repeat(40),
      branch: 'main',
      repository_url: 'https://example.com/r.git',
    });
  });

  it('a flush fsyncs on the calling thread while the policy allows, on the threadpool otherwise', async () => {
    for (const [budgetMs, where] of [
      [60_000, 'inline'],
      [0, 'threadpool'],
    ] as const) {
      const home = makeTempDir();
      const policy = new FsyncPolicy({ budgetMs });
      const recorder = newRecorder(home, new Date(), policy);
      recorder.record([user('first')]);
      await recorder.flush();
      const before = policy.counts;
      for (let turn = 0; turn < 3; turn += 1) {
        recorder.record([user(`turn ${turn}`), agent(`answer ${turn}`)]);
        const flushed = recorder.flush();
        // Inline: the fsync already ran, inside flush(); the threadpool's is still queued.
        expect(policy.counts.inline - before.inline).toBe(where === 'inline' ? turn + 1 : 0);
        await flushed;
        expect(recorder.lastError).toBeNull();
      }
      expect(policy.counts.threadpool - before.threadpool).toBe(where === 'threadpool' ? 3 : 0);
      // Written and synced in order: the file holds every turn, read by another reader.
      expect(await eventMessages(recorder.path)).toEqual([
        'first',
        'turn 0',
        'answer 0',
        'turn 1',
        'answer 1',
        'turn 2',
        'answer 2',
      ]);
      await recorder.shutdown();
    }
  });

  it('after a slow inline fsync overdraws the allowance, flushes use the threadpool', async () => {
    const home = makeTempDir();
    // A 1 ns budget makes every real fsync slow; nothing saved up, and a refill so slow that
    // the first one buys days on the threadpool.
    const policy = new FsyncPolicy({ budgetMs: 1e-6, stallBurstMs: 0, stallShare: 1e-9 });
    const recorder = newRecorder(home, new Date(), policy);
    recorder.record([user('start')]);
    await recorder.flush();
    expect(policy.counts).toEqual({ inline: 1, threadpool: 0, slowInline: 1 });
    for (let turn = 0; turn < 4; turn += 1) {
      recorder.record([agent(`during back-off ${turn}`)]);
      await recorder.flush();
    }
    expect(policy.counts).toEqual({ inline: 1, threadpool: 4, slowInline: 1 });
    expect(await eventMessages(recorder.path)).toEqual([
      'start',
      'during back-off 0',
      'during back-off 1',
      'during back-off 2',
      'during back-off 3',
    ]);
    await recorder.shutdown();
  });

  it('once the allowance has refilled, one flush probes inline again', async () => {
    const home = makeTempDir();
    // Refilled at the full rate of the clock: the threadpool period lasts as long as the
    // slow fsync did.
    const policy = new FsyncPolicy({ budgetMs: 1e-6, stallBurstMs: 0, stallShare: 1 });
    const recorder = newRecorder(home, new Date(), policy);
    recorder.record([user('start')]);
    await recorder.flush();
    expect(policy.counts.slowInline).toBe(1);
    // The allowance is the file's device's.
    const device = statSync(recorder.path).dev;
    const deadline = Date.now() + 10_000;
    while (!policy.inlineNow(device) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const before = policy.counts;
    recorder.record([agent('probe')]);
    await recorder.flush();
    expect(policy.counts.inline - before.inline).toBe(1);
    expect(policy.counts.slowInline).toBe(2);
    expect(await eventMessages(recorder.path)).toEqual(['start', 'probe']);
    await recorder.shutdown();
  });

  it('retries a failed write once after reopening the file (real EBADF in a child)', async () => {
    const home = makeTempDir();
    // The child closes the recorder's fd behind its back (found via /proc/self/fd), so the next
    // write fails with EBADF; nothing else in that process opens files meanwhile.
    const script = rolloutDistScript(
      'ebadf.mjs',
      ['RolloutRecorder'],
      `import { closeSync, readdirSync, readlinkSync } from 'node:fs';
const recorder = RolloutRecorder.create({ codexHome: process.argv[2], threadId: '01a20154-0000-7000-8000-00000000beef', cwd: '/w', originator: 'o', cliVersion: '1', source: 'cli', modelProvider: 'openai', git: null });
const user = (m) => ({ type: 'event_msg', payload: { type: 'user_message', message: m, images: [], local_images: [], text_elements: [] } });
recorder.record([user('before')]);
await recorder.flush();
let closed = 0;
for (const fd of readdirSync('/proc/self/fd')) {
  try { if (readlinkSync('/proc/self/fd/' + fd) === recorder.path) { closeSync(Number(fd)); closed += 1; } } catch {}
}
recorder.record([user('after')]);
await recorder.flush();
await recorder.shutdown();
process.stdout.write(JSON.stringify({ closed, path: recorder.path }));
`,
    );
    const out = await runChildScript(script, home);
    const { closed, path } = JSON.parse(out) as { closed: number; path: string };
    expect(closed).toBe(1);
    const read = await readRollout(path);
    expect(read.parseErrors).toBe(0);
    expect(read.lines.map((l) => (l.type === 'event_msg' ? l.payload.message : l.type))).toEqual([
      'session_meta',
      'before',
      'after',
    ]);
  });

  it.each([
    ['on the calling thread', '{ budgetMs: 60000 }', { inline: 1, threadpool: 0 }],
    ['on the threadpool', '{ budgetMs: 0 }', { inline: 0, threadpool: 1 }],
  ])(
    'flush rejects with the fsync error %s and keeps it as lastError (real EBADF in a child)',
    async (_where, policyOptions, expected) => {
      const home = makeTempDir();
      // The batch is written; then the fd is closed behind the recorder's back, so only the
      // flush's fsync meets the error. The counts are that flush's (where its fsync ran).
      const script = rolloutDistScript(
        'fsync-ebadf.mjs',
        ['FsyncPolicy', 'RolloutRecorder'],
        `import { closeSync, readdirSync, readlinkSync } from 'node:fs';
const policy = new FsyncPolicy(${policyOptions});
const recorder = RolloutRecorder.create({ codexHome: process.argv[2], threadId: '01a20154-0000-7000-8000-00000000f5c0', cwd: '/w', originator: 'o', cliVersion: '1', source: 'cli', modelProvider: 'openai', git: null, fsyncPolicy: policy });
const user = (m) => ({ type: 'event_msg', payload: { type: 'user_message', message: m, images: [], local_images: [], text_elements: [] } });
recorder.record([user('one')]);
await recorder.flush();
recorder.record([user('two')]);
await recorder.writeBuffered();
for (const fd of readdirSync('/proc/self/fd')) {
  try { if (readlinkSync('/proc/self/fd/' + fd) === recorder.path) closeSync(Number(fd)); } catch {}
}
const before = policy.counts;
const outcome = await recorder.flush().then(() => 'resolved', (error) => error.code + ':' + error.cause?.code);
const kept = recorder.lastError?.code ?? null;
const inline = policy.counts.inline - before.inline;
const threadpool = policy.counts.threadpool - before.threadpool;
await recorder.shutdown().catch(() => undefined);
process.stdout.write(JSON.stringify({ outcome, kept, inline, threadpool }));
`,
      );
      const out = await runChildScript(script, home);
      expect(JSON.parse(out)).toEqual({ outcome: 'Io:EBADF', kept: 'EBADF', ...expected });
    },
  );

  it('flushed items survive kill -9 of the writing process', async () => {
    const home = makeTempDir();
    const script = rolloutDistScript(
      'writer.mjs',
      ['RolloutRecorder'],
      `const recorder = RolloutRecorder.create({ codexHome: process.argv[2], threadId: '01a20154-0000-7000-8000-00000000abcd', cwd: '/w', originator: 'o', cliVersion: '1', source: 'cli', modelProvider: 'openai', git: null });
const user = (m) => ({ type: 'event_msg', payload: { type: 'user_message', message: m, images: [], local_images: [], text_elements: [] } });
recorder.record([user('start')]);
for (let i = 0; i < 200; i += 1) recorder.record([{ type: 'event_msg', payload: { type: 'agent_message', message: 'flushed ' + i } }]);
await recorder.flush();
process.stdout.write('FLUSHED ' + recorder.path + '\\n');
let i = 0;
setInterval(() => { recorder.record([{ type: 'event_msg', payload: { type: 'agent_message', message: 'late ' + i++ } }]); }, 1);
`,
    );
    const child = spawn(process.execPath, [script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
    const path = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('writer did not flush in time')), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = out.match(/FLUSHED (.+)\n/);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on('exit', () => reject(new Error('writer exited early')));
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    expect(existsSync(dirname(path))).toBe(true);
    const read = await readRolloutHistory(path);
    const messages = read.lines
      .filter((l) => l.type === 'event_msg' && l.payload.type === 'agent_message')
      .map((l) => (l.type === 'event_msg' ? String(l.payload.message) : ''));
    for (let i = 0; i < 200; i += 1) expect(messages[i]).toBe(`flushed ${i}`);
  });
});
