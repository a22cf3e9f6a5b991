/**
 * `openCodexHome` on real homes (a fresh directory, a copy of a real Codex 0.169 home): what it
 * writes to the rollout file and Codex's DBs per message, that each append is on disk when it
 * resolves, and that another process's view (a new handle) reads the same conversation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFixtureHome, makeTempDir, removeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type CodexHome, openCodexHome, turnStartedItem, userMessageItems } from '../src/index.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function open(dir: string, options?: Parameters<typeof openCodexHome>[1]) {
  const home = await openCodexHome(dir, options);
  let closed = false;
  cleanup.push(() => (closed ? undefined : home.close()));
  return Object.assign(home, {
    async closeOnce() {
      closed = true;
      await home.close();
    },
  }) as CodexHome & { closeOnce(): Promise<void> };
}

function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  cleanup.push(() => removeTempDir(dir));
  return dir;
}

/** `type` or `type/payload.type` of every line of a rollout file. */
function lineKinds(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parsed = JSON.parse(line) as { type: string; payload: Record<string, unknown> };
      const inner = parsed.payload.type;
      const item = (parsed.payload.item as { type?: string } | undefined)?.type;
      return [parsed.type, inner, item].filter((part) => typeof part === 'string').join('/');
    });
}

describe('openCodexHome on a new home (legacy history)', () => {
  it('writes both encodings per message, durable as each append resolves', async () => {
    const dir = join(tempDir('skein-home-'), 'home'); // does not exist yet
    const cwd = tempDir('skein-cwd-');
    const home = await open(dir);
    expect(home.historyMode).toBe('legacy');
    const thread = await home.threads.create({ cwd });
    expect(thread.historyMode).toBe('legacy');

    await thread.appendUserMessage('What is a skein?');
    const path = (await home.threads.read(thread.id)).path!;
    // On disk as soon as the append resolved: the turn is open, the user message is there.
    expect(lineKinds(path)).toEqual([
      'session_meta',
      'event_msg/task_started',
      'response_item/message',
      'event_msg/user_message',
    ]);
    await thread.appendAssistantMessage('A loosely coiled length of yarn.');
    expect(lineKinds(path).slice(4)).toEqual([
      'response_item/message',
      'event_msg/agent_message',
      'event_msg/task_complete',
    ]);

    const read = await thread.read();
    expect(read.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'What is a skein?'],
      ['assistant', 'A loosely coiled length of yarn.'],
    ]);
    expect(read.messages[0]?.turnId).toBe(read.messages[1]?.turnId);
    expect(read).toMatchObject({ preview: 'What is a skein?', cwd, archived: false });

    // Codex's own index row: preview and first user message, the provider and source.
    const db = new Database(join(dir, 'state_5.sqlite'), { readonly: true });
    try {
      const row = db
        .prepare('SELECT first_user_message, source, model_provider FROM threads WHERE id = ?')
        .get(thread.id);
      expect(row).toEqual({
        first_user_message: 'What is a skein?',
        source: 'cli',
        model_provider: 'openai',
      });
    } finally {
      db.close();
    }
    const list = await home.threads.list();
    expect(list.map((t) => [t.id, t.preview])).toEqual([[thread.id, 'What is a skein?']]);
    await home.closeOnce();

    // Another handle (as another process would) reads the same conversation.
    const again = await open(dir);
    expect((await again.threads.read(thread.id)).messages).toEqual(read.messages);
  });

  it('opens a turn per user message; close ends the open turn', async () => {
    const dir = tempDir('skein-home-');
    const home = await open(dir);
    const thread = await home.threads.create({ cwd: dir, name: 'Turns' });
    await thread.appendUserMessage('one');
    await thread.appendUserMessage('two'); // closes the first turn without a reply
    await thread.close(); // closes the second

    const reopened = await home.threads.open(thread.id);
    await reopened.appendAssistantMessage('a reply on its own turn');
    const read = await reopened.read();
    expect(read.name).toBe('Turns');
    expect(read.messages.map((m) => m.text)).toEqual(['one', 'two', 'a reply on its own turn']);
    expect(new Set(read.messages.map((m) => m.turnId)).size).toBe(3);
    const kinds = lineKinds(read.path!);
    expect(kinds.filter((k) => k === 'event_msg/task_started')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'event_msg/task_complete')).toHaveLength(3);
  });

  it('answers into a turn a writer left open (as after a crash)', async () => {
    const dir = tempDir('skein-home-');
    const home = await open(dir);
    // The low-level API, as a program that died mid-turn leaves it: a turn with no end.
    const loaded = await home.manager.startThread({ cwd: dir });
    await loaded.recordItems([
      turnStartedItem('turn-left-open'),
      ...userMessageItems('still waiting', { turnId: 'turn-left-open' }),
    ]);
    await loaded.persist();
    await home.manager.unloadThread(loaded.threadId);

    const thread = await home.threads.open(loaded.threadId);
    await thread.appendAssistantMessage('here is the answer');
    const read = await thread.read();
    expect(read.messages).toEqual([
      { role: 'user', text: 'still waiting', turnId: 'turn-left-open' },
      { role: 'assistant', text: 'here is the answer', turnId: 'turn-left-open' },
    ]);
    expect(lineKinds(read.path!).slice(-1)).toEqual(['event_msg/task_complete']);
  });

  it('finds the open turn as the turn list does: an abort naming another turn closes none', async () => {
    const dir = tempDir('skein-home-');
    const home = await open(dir);
    const loaded = await home.manager.startThread({ cwd: dir });
    await loaded.recordItems([
      turnStartedItem('turn-left-open'),
      ...userMessageItems('still waiting', { turnId: 'turn-left-open' }),
      { type: 'event_msg', payload: { type: 'turn_aborted', turn_id: 'another', reason: 'x' } },
    ]);
    await loaded.persist();
    await home.manager.unloadThread(loaded.threadId);

    const thread = await home.threads.open(loaded.threadId);
    await thread.appendAssistantMessage('here is the answer');
    const read = await thread.read();
    expect(read.messages.map((m) => m.turnId)).toEqual(['turn-left-open', 'turn-left-open']);
  });

  it('refuses a second writer of an open thread until it is closed', async () => {
    const dir = tempDir('skein-home-');
    const first = await open(dir);
    const thread = await first.threads.create({ cwd: dir });
    await thread.appendUserMessage('mine');
    const second = await open(dir); // as another program on the same home would
    await expect(second.threads.open(thread.id)).rejects.toThrow(/already has an active writer/);
    await thread.close();
    const reopened = await second.threads.open(thread.id);
    await reopened.appendAssistantMessage('now yours');
    expect((await reopened.read()).messages.map((m) => m.text)).toEqual(['mine', 'now yours']);
  });

  it('refuses a list limit out of range and appends after close', async () => {
    const dir = tempDir('skein-home-');
    const home = await open(dir);
    await expect(home.threads.list({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(home.threads.list({ limit: 10_001 })).rejects.toThrow(/limit/);
    const thread = await home.threads.create({ cwd: dir });
    expect((await thread.read()).messages).toEqual([]);
    await thread.close();
    await expect(thread.appendUserMessage('late')).rejects.toThrow(/closed/);
  });
});

describe('openCodexHome on a Codex 0.169 home (paginated history)', () => {
  it('writes the paginated encodings and projects the turn into thread_history_1', async () => {
    const { home: dir } = installFixtureHome('codex-0.169');
    cleanup.push(() => removeTempDir(dir));
    const home = await open(dir);
    expect(home.historyMode).toBe('paginated');
    const thread = await home.threads.create({ cwd: dir });
    await thread.appendUserMessage('Paginated question');
    await thread.appendAssistantMessage('Paginated answer');
    const read = await thread.read();
    expect(read.historyMode).toBe('paginated');
    expect(read.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'Paginated question'],
      ['assistant', 'Paginated answer'],
    ]);
    expect(lineKinds(read.path!)).toEqual([
      'session_meta',
      'event_msg/task_started',
      'response_item/message',
      'event_msg/item_completed/UserMessage',
      'event_msg/item_completed/AgentMessage',
      'response_item/message',
      'event_msg/task_complete',
    ]);
    // Each display item names its thread and turn (Codex 0.169 skips one that does not).
    const completed = readFileSync(read.path!, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"item_completed"'))
      .map((line) => (JSON.parse(line) as { payload: Record<string, unknown> }).payload);
    expect(completed.map((p) => [p.thread_id, p.turn_id])).toEqual([
      [thread.id, read.messages[0]?.turnId],
      [thread.id, read.messages[0]?.turnId],
    ]);
    const history = new Database(join(dir, 'thread_history_1.sqlite'), { readonly: true });
    try {
      const turns = history
        .prepare('SELECT COUNT(*) AS n FROM thread_turns WHERE thread_id = ?')
        .get(thread.id) as { n: number };
      const items = history
        .prepare('SELECT COUNT(*) AS n FROM thread_items WHERE thread_id = ?')
        .get(thread.id) as { n: number };
      expect(turns.n).toBe(1);
      expect(items.n).toBeGreaterThanOrEqual(2);
    } finally {
      history.close();
    }
    // Codex's own threads are listed beside it, and can be read as messages too.
    const list = await home.threads.list({ limit: 100 });
    expect(list.length).toBeGreaterThan(1);
    const codexThread = list.find((t) => t.id !== thread.id && t.preview !== '');
    expect(codexThread).toBeDefined();
    const codexRead = await home.threads.read(codexThread!.id);
    expect(codexRead.messages.some((m) => m.role === 'user')).toBe(true);
  });

  it('creates a paginated home from 0.169 schema when asked', async () => {
    const dir = tempDir('skein-home-');
    const home = await open(dir, { codexVersion: '0.169.0' });
    expect(home.historyMode).toBe('paginated');
    const thread = await home.threads.create({ cwd: dir });
    await thread.appendUserMessage('hello');
    await thread.appendAssistantMessage('hi');
    expect((await thread.read()).messages).toHaveLength(2);
  });
});
