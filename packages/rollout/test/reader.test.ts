import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import {
  isRolloutError,
  parseEventMsg,
  parseRolloutLine,
  readRollout,
  readRolloutHistory,
  serializeRolloutLine,
} from '../src/index.js';
import {
  agentMessageLine,
  sessionMetaLine,
  THREAD_A,
  THREAD_B,
  userMessageLine,
  writeRolloutFile,
  zstdStore,
} from './helpers.js';

const fileIn = (dir: string) => join(dir, `rollout-2025-01-03T12-00-00-${THREAD_A}.jsonl`);

describe('rollout reader', () => {
  it('tolerates blank, malformed, unknown and torn lines, counting errors', async () => {
    const dir = makeTempDir();
    const path = fileIn(dir);
    writeRolloutFile(
      path,
      [
        sessionMetaLine(THREAD_A),
        '',
        '   ',
        'not json at all',
        '{"record_type":"response","index":0}',
        { timestamp: 't', type: 'brand_new_kind', payload: { x: 1 } },
        { timestamp: 't', type: 'turn_context', payload: { nope: true } },
        userMessageLine('hello'),
        agentMessageLine('hi'),
      ],
      { torn: '{"timestamp":"2025-01-03T12:00:09.000Z","type":"event_msg","payl' },
    );
    const read = await readRollout(path);
    expect(read.threadId).toBe(THREAD_A);
    // not json + bad envelope + bad turn_context payload + torn tail
    expect(read.parseErrors).toBe(4);
    expect(read.unknownLines).toBe(1);
    expect(read.lines.map((line) => line.type)).toEqual([
      'session_meta',
      'opaque',
      'event_msg',
      'event_msg',
    ]);
    const opaque = read.lines[1];
    expect(opaque?.type === 'opaque' && opaque.kind).toBe('brand_new_kind');
  });

  it('drops ghost snapshots, also inside compacted history', async () => {
    const dir = makeTempDir();
    const path = fileIn(dir);
    writeRolloutFile(path, [
      sessionMetaLine(THREAD_A),
      {
        timestamp: 't',
        type: 'response_item',
        payload: { type: 'ghost_snapshot', ghost_commit: {} },
      },
      {
        timestamp: 't',
        type: 'compacted',
        payload: {
          message: 'summary',
          replacement_history: [
            { type: 'ghost_snapshot' },
            { type: 'message', role: 'user', content: [] },
          ],
        },
      },
    ]);
    const read = await readRollout(path);
    expect(read.parseErrors).toBe(0);
    expect(read.lines).toHaveLength(2);
    const compacted = read.lines[1];
    expect(compacted?.type).toBe('compacted');
    if (compacted?.type === 'compacted') {
      expect(compacted.payload.replacement_history).toEqual([
        { type: 'message', role: 'user', content: [] },
      ]);
    }
  });

  it('takes the first session_meta as the file own (forks copy the parent meta)', async () => {
    const dir = makeTempDir();
    const path = fileIn(dir);
    writeRolloutFile(path, [
      sessionMetaLine(THREAD_A),
      sessionMetaLine(THREAD_B),
      userMessageLine('x'),
    ]);
    const read = await readRollout(path);
    expect(read.threadId).toBe(THREAD_A);
    expect(read.sessionMeta?.id).toBe(THREAD_A);
  });

  it('fails on an unknown own history_mode, but not on a later meta', async () => {
    const dir = makeTempDir();
    const bad = fileIn(dir);
    writeRolloutFile(bad, [sessionMetaLine(THREAD_A, { history_mode: 'holographic' })]);
    await expect(readRollout(bad)).rejects.toSatisfy((e) =>
      isRolloutError(e, 'UnsupportedHistoryMode'),
    );
    const later = join(dir, 'later.jsonl');
    writeRolloutFile(later, [
      sessionMetaLine(THREAD_A, { history_mode: 'paginated' }),
      sessionMetaLine(THREAD_B, { history_mode: 'holographic' }),
    ]);
    expect((await readRollout(later)).threadId).toBe(THREAD_A);
  });

  it('errors on an empty file and on a file without session_meta', async () => {
    const dir = makeTempDir();
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n  \n\n');
    await expect(readRollout(empty)).rejects.toSatisfy((e) => isRolloutError(e, 'EmptyFile'));
    const noMeta = join(dir, 'nometa.jsonl');
    writeRolloutFile(noMeta, [userMessageLine('x')]);
    expect((await readRollout(noMeta)).threadId).toBeNull();
    await expect(readRolloutHistory(noMeta)).rejects.toSatisfy((e) =>
      isRolloutError(e, 'MissingSessionMeta'),
    );
  });

  it('reads .jsonl.zst siblings, and the plain file wins when both exist', async () => {
    const dir = makeTempDir();
    const path = fileIn(dir);
    const text = [sessionMetaLine(THREAD_A), userMessageLine('compressed')]
      .map((l) => `${JSON.stringify(l)}\n`)
      .join('');
    writeFileSync(`${path}.zst`, zstdStore(Buffer.from(text)));
    const viaZst = await readRollout(path);
    expect(viaZst.lines).toHaveLength(2);
    writeRolloutFile(path, [sessionMetaLine(THREAD_A), userMessageLine('plain')]);
    const viaPlain = await readRollout(path);
    const event = viaPlain.lines[1];
    expect(event?.type === 'event_msg' && event.payload.message).toBe('plain');
  });

  it('streams a large file without one giant string, across chunk boundaries', async () => {
    const dir = makeTempDir();
    const path = fileIn(dir);
    const big = 'x'.repeat(300_000);
    const lines: object[] = [sessionMetaLine(THREAD_A)];
    for (let i = 0; i < 12; i += 1) lines.push(agentMessageLine(`${i}:${big}`));
    writeRolloutFile(path, lines);
    const read = await readRollout(path);
    expect(read.parseErrors).toBe(0);
    expect(read.lines).toHaveLength(13);
    const last = read.lines[12];
    expect(last?.type === 'event_msg' && String(last.payload.message).startsWith('11:')).toBe(true);
  });

  it('serializes lines in the legacy key order, byte for byte', () => {
    const raw =
      '{"timestamp":"2026-11-22T02:57:33.185Z","type":"event_msg","payload":{"type":"user_message","message":"second","images":[],"local_images":[],"text_elements":[]}}';
    const parsed = parseRolloutLine(raw);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(serializeRolloutLine(parsed.line)).toBe(raw);
    const paged =
      '{"timestamp":"t","ordinal":3,"type":"world_state","payload":{"full":true},"metadata":{"a":1}}';
    const pagedParsed = parseRolloutLine(paged);
    if (pagedParsed.ok) expect(serializeRolloutLine(pagedParsed.line)).toBe(paged);
    const unknown = '{"timestamp":"t","type":"future_kind","payload":[1,2]}';
    const unknownParsed = parseRolloutLine(unknown);
    if (unknownParsed.ok) expect(serializeRolloutLine(unknownParsed.line)).toBe(unknown);
    expect(unknownParsed.ok).toBe(true);
  });

  it('gives typed views of known events and null for others', () => {
    expect(
      parseEventMsg({ type: 'task_complete', turn_id: 't', last_agent_message: 'x' })?.type,
    ).toBe('task_complete');
    expect(parseEventMsg({ type: 'turn_started', turn_id: 't' })?.type).toBe('turn_started');
    expect(parseEventMsg({ type: 'user_message' })).toBeNull();
    expect(parseEventMsg({ type: 'exec_command_begin' })).toBeNull();
  });
});
