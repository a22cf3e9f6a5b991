/**
 * What the recorder knows about every thread it made Codex create: filled from the answers and
 * notifications on the wire while the scenario runs (nothing here is predicted from version
 * rules), later compared with a read-only census and with the files on disk.
 */
import type { Notification } from './app-server-session.js';
import type { SpawnSpec } from './scenario-types.js';

export interface GitInfo {
  sha: string | null;
  branch: string | null;
  originUrl: string | null;
}

export interface TurnRecord {
  id: string;
  userMessages: string[];
  agentMessages: string[];
  status: string | null;
}

export interface ThreadRecord {
  key: string;
  id: string;
  project: string;
  cwd: string;
  name: string | null;
  archived: boolean;
  ephemeral: boolean;
  /** Expected on disk (rollout and/or state row) when the home is taken. */
  persisted: boolean;
  deleted: boolean;
  historyMode: string | null;
  source: unknown;
  modelProvider: string | null;
  threadSource: string | null;
  preview: string | null;
  /** Turns a fork inherited from its source (resolved when the fork was made). */
  inherited: TurnRecord[];
  forkedFromKey: string | null;
  forkedFromId: string | null;
  parentKey: string | null;
  parentThreadId: string | null;
  agentNickname: string | null;
  gitInfo: GitInfo | null;
  readState: unknown;
  actions: string[];
  /** Codex version and run that created the thread. */
  createdBy: string;
  createdIn: string;
  /** A write other than a turn (name, git, inject) that may materialize a pristine thread. */
  touched: boolean;
  /** Sub-agents this thread's next spawning turn is expected to create. */
  pendingSpawns: SpawnSpec[];
}

/** The value as an object, or an empty one when it is not an object. */
export function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Text of a v2 `userMessage` item (its `content` parts) or an `agentMessage` item (`text`). */
export function itemText(item: Record<string, unknown>): string {
  if (typeof item.text === 'string') return item.text;
  const content = Array.isArray(item.content) ? item.content : [];
  return content
    .map((part) => asString(asObject(part).text) ?? '')
    .join('')
    .trim();
}

export function gitInfoOf(value: unknown): GitInfo | null {
  if (value === null || value === undefined) return null;
  const git = asObject(value);
  const info = {
    sha: asString(git.sha),
    branch: asString(git.branch),
    originUrl: asString(git.originUrl),
  };
  return info.sha === null && info.branch === null && info.originUrl === null ? null : info;
}

/** A thread record with nothing known yet but its key, id, project, cwd and creating run. */
export function blankThreadRecord(
  key: string,
  id: string,
  project: string,
  cwd: string,
  run: { codex: string; label: string },
): ThreadRecord {
  return {
    key,
    id,
    project,
    cwd,
    name: null,
    archived: false,
    ephemeral: false,
    persisted: false,
    deleted: false,
    historyMode: null,
    source: null,
    modelProvider: null,
    threadSource: null,
    preview: null,
    inherited: [],
    forkedFromKey: null,
    forkedFromId: null,
    parentKey: null,
    parentThreadId: null,
    agentNickname: null,
    gitInfo: null,
    readState: null,
    actions: [],
    createdBy: run.codex,
    createdIn: run.label,
    touched: false,
    pendingSpawns: [],
  };
}

export class ThreadBook {
  readonly threads: ThreadRecord[] = [];
  #byKey = new Map<string, ThreadRecord>();
  #byId = new Map<string, ThreadRecord>();
  /** Turns seen on the wire per thread id, in `turn/started` order. */
  #turns = new Map<string, TurnRecord[]>();

  add(record: ThreadRecord): ThreadRecord {
    if (this.#byKey.has(record.key)) throw new Error(`thread key ${record.key} used twice`);
    this.threads.push(record);
    this.#byKey.set(record.key, record);
    this.#byId.set(record.id, record);
    return record;
  }

  get(key: string): ThreadRecord {
    const record = this.#byKey.get(key);
    if (!record) throw new Error(`scenario names thread ${key} before it exists`);
    return record;
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  byId(id: string): ThreadRecord | undefined {
    return this.#byId.get(id);
  }

  ownTurns(id: string): TurnRecord[] {
    return this.#turns.get(id) ?? [];
  }

  allTurns(record: ThreadRecord): TurnRecord[] {
    return [...record.inherited, ...this.ownTurns(record.id)];
  }

  #turn(threadId: string, turnId: string): TurnRecord {
    let list = this.#turns.get(threadId);
    if (!list) {
      list = [];
      this.#turns.set(threadId, list);
    }
    let turn = list.find((candidate) => candidate.id === turnId);
    if (!turn) {
      turn = { id: turnId, userMessages: [], agentMessages: [], status: null };
      list.push(turn);
    }
    return turn;
  }

  /** Records a turn that was not seen on the wire (threads written by `codex exec`/the TUI). */
  addExternalTurn(threadId: string, turn: TurnRecord): void {
    const list = this.#turns.get(threadId) ?? [];
    list.push(turn);
    this.#turns.set(threadId, list);
  }

  /**
   * Folds one notification into the book. Returns spawn edges (sender → receivers) so the
   * runner can key new sub-agents.
   */
  absorb(notification: Notification, label: string): { sender: string; receivers: string[] }[] {
    const params = notification.params;
    const threadId = asString(params.threadId);
    switch (notification.method) {
      case 'turn/started': {
        const turn = asObject(params.turn);
        if (threadId && typeof turn.id === 'string') this.#turn(threadId, turn.id);
        return [];
      }
      case 'turn/completed': {
        const turn = asObject(params.turn);
        if (threadId && typeof turn.id === 'string') {
          this.#turn(threadId, turn.id).status = asString(turn.status);
        }
        return [];
      }
      case 'item/completed': {
        const item = asObject(params.item);
        const turnId = asString(params.turnId);
        if (!threadId || !turnId) return [];
        if (item.type === 'userMessage') {
          this.#turn(threadId, turnId).userMessages.push(itemText(item));
        } else if (item.type === 'agentMessage') {
          this.#turn(threadId, turnId).agentMessages.push(itemText(item));
        } else if (
          item.type === 'collabAgentToolCall' &&
          item.tool === 'spawnAgent' &&
          item.status === 'completed'
        ) {
          const sender = asString(item.senderThreadId) ?? threadId;
          const receivers = Array.isArray(item.receiverThreadIds)
            ? item.receiverThreadIds.filter((id): id is string => typeof id === 'string')
            : [];
          return [{ sender, receivers }];
        }
        return [];
      }
      case 'thread/archived':
      case 'thread/unarchived':
      case 'thread/deleted': {
        const record = threadId ? this.#byId.get(threadId) : undefined;
        if (!record) return [];
        const verb = notification.method.slice('thread/'.length);
        if (verb === 'deleted') {
          record.deleted = true;
          record.persisted = false;
        } else {
          record.archived = verb === 'archived';
        }
        record.actions.push(`${label}: ${verb} (thread/${verb} notification)`);
        return [];
      }
      case 'thread/name/updated': {
        const record = threadId ? this.#byId.get(threadId) : undefined;
        if (record) record.name = asString(params.threadName);
        return [];
      }
      case 'thread/readState/changed': {
        const record = threadId ? this.#byId.get(threadId) : undefined;
        if (record) record.readState = params.readState ?? null;
        return [];
      }
      default:
        return [];
    }
  }
}
