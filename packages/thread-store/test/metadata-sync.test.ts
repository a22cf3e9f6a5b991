import { newThreadId } from '@skein/state';
import { describe, expect, it } from 'vitest';
import {
  isThreadMetadataPatchEmpty,
  mergeThreadMetadataPatch,
  ThreadMetadataSync,
  threadMetadataPatchSchema,
} from '../src/index.js';
import {
  createThreadParams,
  resumeThreadParams,
  turnStartedItem,
  userMessageItem,
} from '../src/testing/index.js';
import type { RolloutItem, ThreadId, ThreadMetadataPatch } from '../src/types.js';

function sessionMeta(threadId: ThreadId, timestamp = '2025-01-03T12-00-00'): RolloutItem {
  return {
    type: 'session_meta',
    payload: {
      id: threadId,
      timestamp,
      cwd: '/work/project',
      originator: 'test',
      cli_version: 'test_version',
      source: 'cli',
      model_provider: 'history-provider',
      git: { commit_hash: 'abcdef', branch: 'main', repository_url: 'https://example.com/r.git' },
    },
  };
}

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ThreadMetadataPatch JSON', () => {
  it('decodes {} to an empty patch', () => {
    const patch = threadMetadataPatchSchema.parse({});
    expect(isThreadMetadataPatchEmpty(patch)).toBe(true);
    expect(Object.keys(patch)).toEqual([]);
  });

  it('round-trips clears as null and keeps absent keys absent', () => {
    const patch: ThreadMetadataPatch = {
      name: null,
      threadSource: null,
      agentNickname: null,
      agentRole: null,
      agentPath: null,
    };
    const json = JSON.stringify(patch);
    expect(JSON.parse(json)).toEqual(patch);
    const decoded = threadMetadataPatchSchema.parse(JSON.parse(json));
    expect(decoded).toEqual(patch);
    expect('preview' in decoded).toBe(false);
    expect(decoded.name).toBeNull();
  });

  it('serializes a git patch with a set, a clear and an absent field exactly', () => {
    const patch: ThreadMetadataPatch = { gitInfo: { branch: 'main', originUrl: null } };
    expect(JSON.stringify(patch.gitInfo)).toBe('{"branch":"main","originUrl":null}');
    const decoded = threadMetadataPatchSchema.parse(JSON.parse(JSON.stringify(patch)));
    expect(decoded.gitInfo).toEqual({ branch: 'main', originUrl: null });
    expect('sha' in (decoded.gitInfo ?? {})).toBe(false);
  });

  it('merges with presence semantics', () => {
    const merged = mergeThreadMetadataPatch(
      { name: 'old', preview: 'kept', gitInfo: { sha: 'a', branch: 'b' } },
      { name: null, gitInfo: { branch: null, originUrl: 'o' } },
    );
    expect(merged).toEqual({
      name: null,
      preview: 'kept',
      gitInfo: { sha: 'a', branch: null, originUrl: 'o' },
    });
  });
});

describe('ThreadMetadataSync', () => {
  it('keeps resume-derived metadata pending until applied', () => {
    const threadId = newThreadId();
    const sync = ThreadMetadataSync.forResume(
      resumeThreadParams(threadId, '/work/project', {
        history: [sessionMeta(threadId), userMessageItem('hello metadata')],
      }),
    );
    const first = sync.takePendingUpdate();
    expect(first?.patch.createdAtMs).toBe(Date.parse('2025-01-03T12:00:00+00:00'));
    expect(first?.patch.preview).toBe('hello metadata');
    expect(first?.patch.title).toBe('hello metadata');
    expect(first?.patch.firstUserMessage).toBe('hello metadata');
    expect(first?.patch.modelProvider).toBe('history-provider');
    expect(first?.patch.updatedAtMs).toBeUndefined();
    expect(sync.takePendingUpdate()).toEqual(first);
    sync.markPendingUpdateApplied(first!);
    expect(sync.takePendingUpdate()).toBeUndefined();
  });

  it("keeps a client's own thread source from the session meta on resume", () => {
    const threadId = newThreadId();
    const meta = sessionMeta(threadId);
    const custom: RolloutItem = {
      ...meta,
      payload: { ...(meta.payload as Record<string, unknown>), thread_source: 'nightly-digest' },
    } as RolloutItem;
    const sync = ThreadMetadataSync.forResume(
      resumeThreadParams(threadId, '/w', { history: [custom, userMessageItem('digest')] }),
    );
    expect(sync.takePendingUpdate()?.patch.threadSource).toBe('nightly-digest');
  });

  it("derives a resumed fork by reference's metadata from its own lines, not its source's", () => {
    const sourceId = newThreadId();
    const forkId = newThreadId();
    const inherited = [sessionMeta(sourceId), userMessageItem('the source asks')];
    const own = [sessionMeta(forkId), userMessageItem('the fork asks')];
    const sync = ThreadMetadataSync.forResume(
      resumeThreadParams(forkId, '/w', { history: [...inherited, ...own] }),
    );
    const patch = sync.takePendingUpdate()?.patch;
    expect([patch?.preview, patch?.title, patch?.firstUserMessage]).toEqual([
      'the fork asks',
      'the fork asks',
      'the fork asks',
    ]);
    // A fork that has not asked anything yet leaves the row's preview alone.
    const quiet = ThreadMetadataSync.forResume(
      resumeThreadParams(forkId, '/w', { history: [...inherited, sessionMeta(forkId)] }),
    );
    expect(quiet.takePendingUpdate()?.patch.preview).toBeUndefined();
  });

  it('sets the preview from a goal before any user message, title from the message', () => {
    const threadId = newThreadId();
    const sync = ThreadMetadataSync.forResume(resumeThreadParams(threadId, '/w'));
    const update = sync.observeAppendedItems([
      {
        type: 'event_msg',
        payload: { type: 'thread_goal_updated', goal: { objective: '  ship the goal  ' } },
      },
      userMessageItem('the first message'),
    ]);
    expect(update?.patch.preview).toBe('ship the goal');
    expect(update?.patch.title).toBe('the first message');
    expect(update?.patch.firstUserMessage).toBe('the first message');
  });

  it('emits only an updatedAt touch for later user messages', () => {
    const threadId = newThreadId();
    const time = clock();
    const sync = ThreadMetadataSync.forResume(resumeThreadParams(threadId, '/w'), {
      now: time.now,
    });
    const first = sync.observeAppendedItems([userMessageItem('one')]);
    sync.markPendingUpdateApplied(first!);
    time.advance(10);
    const second = sync.observeAppendedItems([userMessageItem('two')]);
    expect(second?.patch).toEqual({ updatedAtMs: time.now() });
  });

  it('coalesces metadata-irrelevant touches inside the interval', () => {
    const threadId = newThreadId();
    const time = clock();
    const sync = ThreadMetadataSync.forResume(resumeThreadParams(threadId, '/w'), {
      now: time.now,
      touchIntervalMs: 50,
    });
    const compacted: RolloutItem = { type: 'compacted', payload: { message: 'summary' } };
    const first = sync.observeAppendedItems([compacted]);
    expect(first?.patch).toEqual({ updatedAtMs: time.now() });
    sync.markPendingUpdateApplied(first!);
    time.advance(10);
    expect(sync.observeAppendedItems([compacted])).toBeUndefined();
    const barrier = sync.takePendingUpdateForExistingHistory();
    expect(barrier?.patch).toEqual({ updatedAtMs: time.now() });
    sync.markPendingUpdateApplied(barrier!);
    time.advance(60);
    expect(sync.observeAppendedItems([compacted])?.patch).toEqual({ updatedAtMs: time.now() });
  });

  it('advances recency on turn start', () => {
    const threadId = newThreadId();
    const time = clock();
    const sync = ThreadMetadataSync.forResume(resumeThreadParams(threadId, '/w'), {
      now: time.now,
    });
    const update = sync.observeAppendedItems([turnStartedItem('turn-1')]);
    expect(update?.patch).toEqual({ updatedAtMs: time.now(), advanceRecencyAtMs: time.now() });
  });

  it('holds resume metadata back from barriers until a new append', () => {
    const threadId = newThreadId();
    const sync = ThreadMetadataSync.forResume(
      resumeThreadParams(threadId, '/w', {
        history: [sessionMeta(threadId), userMessageItem('old message')],
      }),
    );
    expect(sync.takePendingUpdateForExistingHistory()).toBeUndefined();
    const update = sync.observeAppendedItems([userMessageItem('new message')]);
    expect(update?.patch.firstUserMessage).toBe('old message');
    expect(update?.patch.modelProvider).toBe('history-provider');
    expect(update?.patch.updatedAtMs).toBeTypeOf('number');
  });

  it('defers the create patch until history exists, then sends it with the first append', async () => {
    const params = createThreadParams('/w', { threadSource: null });
    const sync = await ThreadMetadataSync.forCreate(params, { collectGitInfo: async () => null });
    expect(sync.takePendingUpdateForExistingHistory()).toBeUndefined();
    const create = sync.takePendingUpdate();
    expect(create?.patch).toMatchObject({
      modelProvider: 'test-provider',
      source: 'cli',
      threadSource: null,
      cwd: '/w',
      memoryMode: 'enabled',
    });
    const update = sync.observeAppendedItems([userMessageItem('hi')]);
    expect(update?.patch).toMatchObject({ source: 'cli', preview: 'hi', cwd: '/w' });
    expect(update?.generation).toBe(2);
  });

  it('only clears pending when the applied generation is current', () => {
    const threadId = newThreadId();
    const sync = ThreadMetadataSync.forResume(resumeThreadParams(threadId, '/w'));
    const first = sync.observeAppendedItems([userMessageItem('first')]);
    sync.observeAppendedItems([userMessageItem('second')]);
    sync.markPendingUpdateApplied(first!);
    expect(sync.takePendingUpdate()?.patch.preview).toBe('first');
  });

  it('hands out a deep copy: changing a taken patch leaves the pending one as it was', () => {
    const threadId = newThreadId();
    const sync = ThreadMetadataSync.forResume(resumeThreadParams(threadId, '/w'));
    // A turn context whose profile carries nested data and a `__proto__` key (JSON allows it).
    const profile = JSON.parse(
      '{"type":"workspace-write","writable_roots":["/w"],"__proto__":{"x":1}}',
    ) as Record<string, unknown>;
    const context: RolloutItem = {
      type: 'turn_context',
      payload: { cwd: '/w', model: 'm', approval_policy: 'never', permission_profile: profile },
    };
    const protoKey = '__proto__';
    const taken = sync.observeAppendedItems([context]);
    const copy = taken?.patch.permissionProfile as unknown as Record<string, unknown>;
    expect(Object.hasOwn(copy, protoKey)).toBe(true);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy).toEqual(profile);
    (copy.writable_roots as string[]).push('/elsewhere');
    (copy[protoKey] as { x: number }).x = 2;
    const again = sync.takePendingUpdate()?.patch.permissionProfile as unknown as Record<
      string,
      unknown
    >;
    expect(again.writable_roots).toEqual(['/w']);
    expect((again[protoKey] as { x: number }).x).toBe(1);
  });
});
