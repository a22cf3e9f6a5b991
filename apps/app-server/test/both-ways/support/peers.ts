/**
 * The two kinds of process the suite runs on one home: the real `codex app-server` and Skein's
 * built app-server (`dist/main.js`), both spoken to over stdio with the same requests, plus the
 * few answers the checks read (threads, turns, read states) typed just enough for assertions.
 */
import { join } from 'node:path';
import { ensureCodexCli, StdioJsonRpcClient } from '@skein/test-support';

export const SKEIN_APP_SERVER = join(import.meta.dirname, '..', '..', '..', 'dist', 'main.js');

export type CodexVersion = '0.169.0' | '0.131.0';

export interface WireGitInfo {
  sha: string | null;
  branch: string | null;
  originUrl: string | null;
}

export interface WireTurn {
  id: string;
  status: string;
  items: { type: string; content?: { type: string; text?: string }[]; text?: string }[];
}

export interface WireThread {
  id: string;
  name: string | null;
  preview: string;
  path: string | null;
  gitInfo: WireGitInfo | null;
  historyMode?: string;
  forkedFromId: string | null;
  parentThreadId?: string | null;
  turns: WireTurn[];
}

export interface WireReadState {
  firstUnread: { type: 'threadStart' } | { type: 'turn'; turnId: string } | null;
  revision: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** Stderr lines that mean a process hit a storage problem it should have handled. */
const STORAGE_TROUBLE = /database is locked|SQLITE_BUSY|migration|malformed|corrupt/i;

export class Peer {
  readonly client: StdioJsonRpcClient;

  private constructor(
    readonly label: string,
    command: string,
    args: string[],
    home: string,
  ) {
    const env = { ...process.env, CODEX_HOME: home, RUST_LOG: 'error', NO_COLOR: '1' };
    this.client = new StdioJsonRpcClient(command, args, { cwd: home, env });
  }

  /** A real `codex app-server` of `version` on `home`, initialized. */
  static async codex(version: CodexVersion, home: string): Promise<Peer> {
    const peer = new Peer(`codex ${version}`, ensureCodexCli(version).binary, ['app-server'], home);
    await peer.client.initialize('skein_both_ways', true);
    return peer;
  }

  /** Skein's built app-server on `home`, initialized. */
  static async skein(home: string): Promise<Peer> {
    const peer = new Peer('skein', process.execPath, [SKEIN_APP_SERVER], home);
    await peer.client.initialize('skein_both_ways', true);
    return peer;
  }

  request<T = Record<string, unknown>>(method: string, params: unknown): Promise<T> {
    return this.client.request<T>(method, params);
  }

  /** A request whose refusal is an expected answer: the error message instead of a throw. */
  async attempt<T = Record<string, unknown>>(method: string, params: unknown): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await this.client.request<T>(method, params) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async read(threadId: string, includeTurns = false): Promise<WireThread> {
    const answer = await this.request<{ thread: WireThread }>('thread/read', {
      threadId,
      includeTurns,
    });
    return answer.thread;
  }

  async readWithState(
    threadId: string,
  ): Promise<{ thread: WireThread; readState: WireReadState | null }> {
    return this.request('thread/read', { threadId, includeTurns: false });
  }

  /** Every turn of a thread through `thread/turns/list`, oldest first, full items. */
  async turns(threadId: string): Promise<WireTurn[]> {
    const turns: WireTurn[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const answer: { data: WireTurn[]; nextCursor: string | null } = await this.request(
        'thread/turns/list',
        {
          threadId,
          limit: 100,
          sortDirection: 'asc',
          itemsView: 'full',
          ...(cursor === null ? {} : { cursor }),
        },
      );
      turns.push(...answer.data);
      cursor = answer.nextCursor;
      if (cursor === null) return turns;
    }
    throw new Error(`thread/turns/list of ${threadId} did not end within 20 pages`);
  }

  /** Every listed thread (all providers, the given archived flag and source kinds). */
  async list(
    options: { archived?: boolean; sourceKinds?: string[] } = {},
  ): Promise<{ threads: WireThread[]; readStates: Record<string, WireReadState> | null }> {
    const threads: WireThread[] = [];
    let readStates: Record<string, WireReadState> | null = null;
    let cursor: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const answer: {
        data: WireThread[];
        nextCursor: string | null;
        readStates?: Record<string, WireReadState> | null;
      } = await this.request('thread/list', {
        limit: 100,
        modelProviders: [],
        archived: options.archived ?? false,
        ...(options.sourceKinds === undefined ? {} : { sourceKinds: options.sourceKinds }),
        ...(cursor === null ? {} : { cursor }),
      });
      threads.push(...answer.data);
      if (answer.readStates != null) readStates = { ...(readStates ?? {}), ...answer.readStates };
      cursor = answer.nextCursor;
      if (cursor === null) return { threads, readStates };
    }
    throw new Error('thread/list did not end within 20 pages');
  }

  /** The ids `thread/list` answers for one archived flag (sub-agents included). */
  async listedIds(archived: boolean): Promise<Set<string>> {
    const { threads } = await this.list({ archived, sourceKinds: ALL_SOURCE_KINDS });
    return new Set(threads.map((t) => t.id));
  }

  /**
   * Runs one real turn on a thread this process has resumed (the mock model answers) and waits
   * for `turn/completed`. Returns the turn id.
   */
  async runTurn(threadId: string, text: string, timeoutMs = 30_000): Promise<string> {
    const from = this.client.notifications.length;
    const started = await this.request<{ turn: { id: string } }>('turn/start', {
      threadId,
      input: [{ type: 'text', text, text_elements: [] }],
    });
    const turnId = started.turn.id;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const done = this.client.notifications.slice(from).find((note) => {
        const params = note.params as { turn?: { id?: string; status?: string } } | undefined;
        return note.method === 'turn/completed' && params?.turn?.id === turnId;
      });
      if (done !== undefined) {
        const status = (done.params as { turn: { status?: string } }).turn.status;
        if (status !== 'completed') throw new Error(`${this.label}: turn ${turnId} ${status}`);
        return turnId;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.label}: no turn/completed for ${turnId} within ${timeoutMs} ms`);
  }

  /** Stderr lines that report a storage problem (locked DB, migration, corruption). */
  storageTrouble(): string[] {
    return this.client.stderr
      .join('')
      .split('\n')
      .filter((line) => STORAGE_TROUBLE.test(line));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export const ALL_SOURCE_KINDS = [
  'cli',
  'vscode',
  'exec',
  'appServer',
  'subAgent',
  'subAgentReview',
  'subAgentCompact',
  'subAgentThreadSpawn',
  'subAgentOther',
  'unknown',
];

/** The texts of a turn's user and agent messages, in order. */
export function turnTexts(turn: WireTurn): { user: string[]; agent: string[] } {
  const user: string[] = [];
  const agent: string[] = [];
  for (const item of turn.items) {
    if (item.type === 'userMessage') {
      user.push((item.content ?? []).map((part) => part.text ?? '').join(''));
    } else if (item.type === 'agentMessage') {
      agent.push(item.text ?? '');
    }
  }
  return { user, agent };
}
