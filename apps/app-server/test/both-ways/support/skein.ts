/**
 * Skein in this process, built as its apps build it: `initStateDb` on the home once, a
 * `LocalThreadStore` over it and a `ThreadManager` over the store. Used where the wire has no
 * method for it (read receipts, recording turns) and for a Skein that stays open while Codex
 * changes the home.
 */
import { initStateDb } from '@skein/rollout';
import { newThreadId, type StateDb, type ThreadId } from '@skein/state';
import { ThreadManager } from '@skein/thread-manager';
import { LocalThreadStore, type RolloutItem } from '@skein/thread-store';
import {
  agentMessageItem,
  paginatedTurnItems,
  turnCompleteItem,
  turnStartedItem,
  userMessageItem,
} from '@skein/thread-store/testing';
import { CODEX_PROTOCOL_VERSION } from '../../../src/version.js';
import type { HistoryMode } from './homes.js';

export interface InProcessSkein {
  stateDb: StateDb;
  store: LocalThreadStore;
  manager: ThreadManager;
  /** Warnings the store reported (best-effort steps that failed). */
  warnings: string[];
  close(): Promise<void>;
}

export async function openSkein(home: string, defaultProvider = 'mock'): Promise<InProcessSkein> {
  const stateDb = await initStateDb({ codexHome: home, defaultProvider });
  const warnings: string[] = [];
  const store = new LocalThreadStore(
    { codexHome: home, defaultModelProvider: defaultProvider, warn: (line) => warnings.push(line) },
    stateDb,
  );
  const manager = new ThreadManager({
    store,
    defaultModelProvider: defaultProvider,
    cliVersion: CODEX_PROTOCOL_VERSION,
    idleUnloadDelayMs: 0,
    onBackgroundError: (error) => warnings.push(`background: ${String(error)}`),
  });
  return {
    stateDb,
    store,
    manager,
    warnings,
    close: async () => {
      await manager.shutdownAll(10_000);
      await stateDb.close();
    },
  };
}

/** One complete turn in the thread's own history mode, as Codex of that mode writes it. */
export function turnItems(
  mode: HistoryMode,
  turnId: string,
  userText: string,
  agentText: string,
): RolloutItem[] {
  if (mode === 'paginated') return paginatedTurnItems(turnId, userText, agentText);
  return [
    turnStartedItem(turnId),
    {
      type: 'response_item',
      payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: userText }] },
    },
    userMessageItem(userText),
    agentMessageItem(agentText),
    {
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: agentText }],
      },
    },
    turnCompleteItem(turnId, agentText),
  ];
}

/** Resumes a thread in Skein, records one turn, and unloads it. Returns the turn id. */
export async function appendTurn(
  skein: InProcessSkein,
  threadId: string,
  mode: HistoryMode,
  userText: string,
  agentText: string,
): Promise<string> {
  const turnId = newThreadId();
  const { thread } = await skein.manager.resumeThread(threadId as ThreadId);
  await thread.recordItems(turnItems(mode, turnId, userText, agentText));
  await thread.flush();
  await skein.manager.unloadThread(threadId as ThreadId);
  return turnId;
}
