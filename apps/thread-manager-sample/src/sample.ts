/**
 * The sample's whole story, given a ThreadManager: start a thread, record one turn, shut it
 * down, resume it, fork it, rename it, list the home's threads. Returns what happened.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ThreadManager } from '@skein/thread-manager';
import type { RolloutItem, ThreadId } from '@skein/thread-store';

/**
 * What `runSample` needs: the manager to work through and the texts and settings of the thread it
 * writes.
 */
export interface SampleOptions {
  manager: ThreadManager;
  /** Working directory recorded on the thread. */
  cwd: string;
  /** The first user message. */
  message: string;
  /** The agent's reply recorded in the turn. */
  reply: string;
  model: string;
  modelProvider: string;
  /** The name given to the thread. */
  name: string;
}

/**
 * What `runSample` did, step by step: the thread started, the turn recorded, the resume, the fork,
 * the rename, the listing and the manager's events.
 */
export interface SampleReport {
  started: { threadId: ThreadId; rolloutPath: string | null; existsBeforeFirstTurn: boolean };
  recorded: { turnId: string; items: number; existsAfterTurn: boolean; status: string };
  resumed: {
    threadId: ThreadId;
    historyItems: number;
    sameHistory: boolean;
    alreadyLoaded: boolean;
  };
  forked: { threadId: ThreadId; forkedFromId: ThreadId | null; rolloutPath: string | null };
  renamed: { threadId: ThreadId; name: string | null };
  listed: {
    threadId: ThreadId;
    preview: string;
    name: string | null;
    forkedFromId: ThreadId | null;
  }[];
  events: string[];
}

/** One turn in the legacy rollout format: what Codex records for a plain question/answer. */
export function sampleTurn(options: {
  turnId: string;
  cwd: string;
  model: string;
  message: string;
  reply: string;
}): RolloutItem[] {
  const now = Math.floor(Date.now() / 1000);
  const usage = {
    input_tokens: 1200,
    cached_input_tokens: 200,
    output_tokens: 48,
    reasoning_output_tokens: 16,
    total_tokens: 1248,
  };
  return [
    {
      type: 'event_msg',
      payload: {
        type: 'task_started',
        turn_id: options.turnId,
        started_at: now,
        model_context_window: 258_400,
      },
    },
    {
      type: 'turn_context',
      payload: {
        turn_id: options.turnId,
        cwd: options.cwd,
        approval_policy: 'never',
        sandbox_policy: { type: 'read-only' },
        model: options.model,
        effort: 'medium',
        summary: 'auto',
      },
    },
    {
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: options.message }],
      },
    },
    {
      type: 'event_msg',
      payload: {
        type: 'user_message',
        message: options.message,
        images: [],
        local_images: [],
        text_elements: [],
      },
    },
    {
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: options.reply }],
      },
    },
    { type: 'event_msg', payload: { type: 'agent_message', message: options.reply } },
    {
      type: 'event_msg',
      payload: {
        type: 'token_count',
        info: { total_token_usage: usage, last_token_usage: usage, model_context_window: 258_400 },
        rate_limits: null,
      },
    },
    {
      type: 'event_msg',
      payload: {
        type: 'task_complete',
        turn_id: options.turnId,
        last_agent_message: options.reply,
        completed_at: now,
        duration_ms: 0,
      },
    },
  ];
}

/**
 * The sample's whole story on a `ThreadManager`: start a thread, record one turn, shut it down,
 * resume it, fork it, rename it, list the home's threads; returns what happened.
 */
export async function runSample(options: SampleOptions): Promise<SampleReport> {
  const { manager } = options;
  const events: string[] = [];
  manager.on('threadStarted', ({ thread }) => events.push(`threadStarted ${thread.threadId}`));
  manager.on('statusChanged', ({ threadId, status }) =>
    events.push(`statusChanged ${threadId} ${status.type}`),
  );
  manager.on('nameUpdated', ({ threadId, threadName }) =>
    events.push(`nameUpdated ${threadId} ${JSON.stringify(threadName)}`),
  );
  manager.on('closed', ({ threadId }) => events.push(`closed ${threadId}`));

  // 1. Start: the thread has an id and a path, but nothing is on disk yet.
  const thread = await manager.startThread({
    cwd: options.cwd,
    model: options.model,
    modelProvider: options.modelProvider,
  });
  const started = {
    threadId: thread.threadId,
    rolloutPath: thread.rolloutPath,
    existsBeforeFirstTurn: thread.rolloutPath !== null && existsSync(thread.rolloutPath),
  };

  // 2. Record a turn; the store applies the persistence policy and syncs metadata.
  const turnId = randomUUID();
  const turn = sampleTurn({ turnId, ...options });
  await thread.recordItems(turn);
  await thread.flush();
  const recorded = {
    turnId,
    items: turn.length,
    existsAfterTurn: thread.rolloutPath !== null && existsSync(thread.rolloutPath),
    status: thread.status.type,
  };
  const historyBefore = await thread.loadHistory();

  // 3. Shut down (flushes and closes the writer), then resume from the stored history.
  await thread.shutdown();
  const resumed = await manager.resumeThread(thread.threadId);
  const sameHistory = JSON.stringify(resumed.history) === JSON.stringify(historyBefore);

  // 4. Fork: a new thread (new id, forkedFromId set) written at once.
  const fork = await manager.forkThread(thread.threadId);

  // 5. Rename through the one metadata entrypoint (loaded ⇒ through its LiveThread).
  const renamed = await manager.setThreadName(thread.threadId, options.name);

  // 6. List what the store holds (every provider and source).
  const page = await manager.store.listThreads({
    pageSize: 20,
    modelProviders: [],
    allowedSources: ['cli', 'vscode', 'exec', 'mcp', 'unknown'],
  });

  await manager.shutdownAll(10_000);
  return {
    started,
    recorded,
    resumed: {
      threadId: resumed.thread.threadId,
      historyItems: resumed.history.length,
      sameHistory,
      alreadyLoaded: resumed.alreadyLoaded,
    },
    forked: {
      threadId: fork.thread.threadId,
      forkedFromId: fork.thread.forkedFromId,
      rolloutPath: fork.thread.rolloutPath,
    },
    renamed: { threadId: renamed.threadId, name: renamed.name },
    listed: page.items.map((item) => ({
      threadId: item.threadId,
      preview: item.preview,
      name: item.name,
      forkedFromId: item.forkedFromId,
    })),
    events,
  };
}

/** The report as short human-readable lines. */
export function formatReport(codexHome: string, report: SampleReport): string {
  const lines = [
    `Codex home: ${codexHome}`,
    `started   ${report.started.threadId}`,
    `          rollout ${report.started.rolloutPath ?? '(none)'} (on disk: ${report.started.existsBeforeFirstTurn ? 'yes' : 'no'})`,
    `recorded  turn ${report.recorded.turnId}: ${report.recorded.items} items (on disk: ${report.recorded.existsAfterTurn ? 'yes' : 'no'})`,
    `resumed   ${report.resumed.threadId} from ${report.resumed.historyItems} history items (same history: ${report.resumed.sameHistory ? 'yes' : 'no'})`,
    `forked    ${report.forked.threadId} from ${report.forked.forkedFromId ?? '?'}`,
    `renamed   ${report.renamed.threadId} to ${JSON.stringify(report.renamed.name)}`,
    `listed    ${report.listed.length} thread(s):`,
    ...report.listed.map(
      (item) =>
        `          ${item.threadId}  ${JSON.stringify(item.name ?? item.preview)}${item.forkedFromId === null ? '' : `  (fork of ${item.forkedFromId})`}`,
    ),
    'events:',
    ...report.events.map((event) => `          ${event}`),
  ];
  return `${lines.join('\n')}\n`;
}
