/** `thread/start` (§2.1), `thread/resume` (§2.2) and `thread/fork` (§2.3). */
import { resolve } from 'node:path';
import {
  type BuiltHistory,
  buildThread,
  buildTurns,
  type HistoryItem,
  itemsBackwardsCursor,
  pageTurns,
  type ThreadForkParams,
  type ThreadResumeParams,
  type ThreadStartParams,
  threadForkParams,
  threadResumeParams,
  threadStartParams,
  turnsCursor,
  type WireThread,
  wireGitInfo,
} from '@skein/app-server-protocol';
import {
  type ForkedThread,
  type ForkThreadOptions,
  isThreadManagerError,
} from '@skein/thread-manager';
import {
  gitInfoFromRolloutGit,
  type RolloutItem,
  type StoredThread,
  type ThreadId,
  type ThreadSource,
} from '@skein/thread-store';
import { RpcError } from '../errors.js';
import type { Call, MethodHandler } from '../server/app-server.js';
import {
  DEPRECATION_EXCLUDE_TURNS,
  liveOnlyFacts,
  parseThreadIdParam,
  readStored,
  wireThread,
} from './common.js';
import type { HandlerContext } from './context.js';
import { clampLimit } from './list.js';
import { checkResumeProvider, refuseUnknownProvider } from './model-providers.js';
import {
  configuredModel,
  recordedSettings,
  sameAsLastSettings,
  sessionEcho,
  settingsAppliedItem,
  tokenUsageOf,
} from './session.js';

function resolveCwd(ctx: HandlerContext, cwd: string | undefined): string | undefined {
  return cwd === undefined ? undefined : resolve(ctx.cwd, cwd);
}

function checkPermissions(params: { sandbox?: string | undefined; permissions?: unknown }): void {
  if (params.sandbox !== undefined && params.permissions !== undefined) {
    throw RpcError.invalidRequest('`permissions` cannot be combined with `sandbox`');
  }
}

function announceStarted(ctx: HandlerContext, call: Call<unknown>, thread: WireThread): void {
  call.after(() => ctx.server.broadcast('thread/started', { thread: { ...thread, turns: [] } }));
}

export function startHandler(ctx: HandlerContext): MethodHandler<ThreadStartParams> {
  return {
    schema: threadStartParams,
    async handle(call) {
      const { params, connection } = call;
      checkPermissions(params);
      refuseUnknownProvider(ctx, params.modelProvider);
      const thread = await ctx.manager.startThread({
        cwd: resolveCwd(ctx, params.cwd) ?? ctx.cwd,
        modelProvider: params.modelProvider ?? ctx.defaultModelProvider,
        model: configuredModel(ctx.session, params.model),
        reasoningEffort: ctx.session.reasoningEffort,
        ephemeral: params.ephemeral === true,
        ...(params.historyMode === undefined ? {} : { historyMode: params.historyMode }),
        threadSource: (params.threadSource ?? null) as ThreadSource | null,
        originator: connection.clientName,
        baseInstructions: params.baseInstructions ?? null,
        connectionId: connection.id,
      });
      const wire = buildThread(
        liveOnlyFacts(ctx, thread, thread.createdAtMs),
        ctx.statusOf(thread.threadId),
      );
      announceStarted(ctx, call as Call<unknown>, wire);
      ctx.loadedSettings.set(thread.threadId, undefined);
      return {
        thread: wire,
        ...sessionEcho(ctx.session, params, {
          model: configuredModel(ctx.session, params.model),
          modelProvider: thread.modelProvider,
          cwd: thread.cwd,
          reasoningEffort: thread.reasoningEffort,
        }),
        multiAgentMode: 'explicitRequestOnly',
      };
    },
  };
}

/** `thread/tokenUsage/updated` (when the history recorded usage), to the calling connection. */
function announceTokenUsage(
  call: Call<unknown>,
  threadId: string,
  history: readonly { type: string; payload: unknown }[],
): void {
  const usage = tokenUsageOf(threadId, history);
  if (usage !== null) call.after(() => call.connection.notify('thread/tokenUsage/updated', usage));
}

function turnsOf(history: BuiltHistory): WireThread['turns'] {
  return history.turns.map((t) => t.turn);
}

export function resumeHandler(ctx: HandlerContext): MethodHandler<ThreadResumeParams> {
  return {
    schema: threadResumeParams,
    async handle(call) {
      const { params, connection } = call;
      const threadId = parseThreadIdParam(params.threadId, 'session') as ThreadId;
      checkPermissions(params);
      if (params.history !== undefined) {
        if (ctx.manager.isLoaded(threadId)) {
          throw RpcError.invalidRequest(
            `cannot resume thread ${threadId} with history while it is already running`,
          );
        }
        if (params.history.length === 0) throw RpcError.invalidRequest('history must not be empty');
        throw RpcError.unsupported('thread/resume.history is not supported yet');
      }
      if (params.path !== undefined && params.path !== '') {
        const stored = await readStored(ctx, threadId, {
          includeArchived: true,
          includeHistory: false,
        });
        if (stored?.rolloutPath !== resolve(ctx.cwd, params.path)) {
          throw RpcError.unsupported('thread/resume.path is not supported yet');
        }
      }
      const cwd = resolveCwd(ctx, params.cwd);
      const excludeTurns = params.excludeTurns === true;
      const loaded = ctx.manager.lookupThread(threadId);
      const stored =
        loaded === undefined
          ? await readStored(ctx, threadId, { includeArchived: true, includeHistory: false }).catch(
              () => null,
            )
          : null;
      // A missing or archived thread gets the manager's error below; a stored one must run on a
      // configured provider before anything is loaded.
      if (stored !== null && stored.archivedAtMs === null) {
        checkResumeProvider(ctx, stored, params.modelProvider);
      }
      // 0.169.0 warns about full-history hydration of a paginated thread before it loads it.
      let warned = false;
      if (!excludeTurns) {
        const known = loaded ?? stored;
        if (known?.historyMode === 'paginated') {
          connection.notify('deprecationNotice', {
            summary: DEPRECATION_EXCLUDE_TURNS,
            details: null,
          });
          warned = true;
        }
      }
      const resumed = await ctx.manager.resumeThread(threadId, {
        connectionId: connection.id,
        ...(cwd === undefined ? {} : { cwd }),
        ...(params.modelProvider === undefined ? {} : { modelProvider: params.modelProvider }),
      });
      const history = buildTurns(
        resumed.history as HistoryItem[],
        ctx.statusOf(threadId).type === 'active',
      );
      const historyMode = resumed.stored?.historyMode ?? resumed.thread.historyMode;
      if (!excludeTurns && historyMode === 'paginated' && !warned) {
        connection.notify('deprecationNotice', {
          summary: DEPRECATION_EXCLUDE_TURNS,
          details: null,
        });
      }
      // A legacy thread is answered as 0.169.0 reads it without its history (its rollout view),
      // read before the settings below are recorded.
      const answered: StoredThread | null =
        historyMode === 'legacy' && !resumed.thread.ephemeral
          ? ((await readStored(ctx, threadId, {
              includeArchived: false,
              includeHistory: false,
            }).catch(() => null)) ?? resumed.stored)
          : resumed.stored;
      const thread = wireThread(
        ctx,
        answered,
        resumed.thread,
        excludeTurns ? [] : turnsOf(history),
      );
      // The resumed session knows the thread source its session meta records, where the row
      // has none (a row 0.131 wrote); later reads answer the row's again, as 0.169.0 does.
      const meta = sessionMetaOf(resumed.history, threadId);
      thread.threadSource ??= meta === null ? null : sessionMetaThreadSource(meta);
      // So does its git, where the row has none (a row 0.131 wrote before any git update).
      thread.gitInfo ??= meta === null ? null : wireGitInfo(gitInfoFromRolloutGit(meta.git));
      // A loaded thread answers its live session: what its history recorded when it loaded.
      if (!resumed.alreadyLoaded || !ctx.loadedSettings.has(threadId)) {
        ctx.loadedSettings.set(threadId, recordedSettings(resumed.history));
      }
      const session = sessionEcho(ctx.session, params, {
        model: params.model ?? resumed.thread.model ?? configuredModel(ctx.session),
        modelProvider: resumed.thread.modelProvider,
        cwd: resumed.thread.cwd,
        reasoningEffort: resumed.thread.reasoningEffort,
        recorded: ctx.loadedSettings.get(threadId),
      });
      // 0.169.0 records the settings it resumes a legacy thread with (the rollout grows, the
      // row's update time moves), unless they are the ones the thread last recorded.
      if (!resumed.alreadyLoaded && historyMode === 'legacy' && !resumed.thread.ephemeral) {
        const applied = settingsAppliedItem(ctx.session, params, threadId, session);
        if (!sameAsLastSettings(resumed.history, applied)) {
          await resumed.thread.recordItems([applied as RolloutItem]);
        }
      }
      // 0.169.0 reports the usage it knows: when the turns were read, and for a paginated
      // thread it loads (not a fork by reference, whose usage is its source's) even without
      // them; then the (empty) goal snapshot.
      const referenceFork = historyMode === 'paginated' && thread.forkedFromId !== null;
      const usageKnown = resumed.alreadyLoaded
        ? !excludeTurns
        : historyMode === 'paginated'
          ? !referenceFork
          : !excludeTurns;
      if (usageKnown) announceTokenUsage(call as Call<unknown>, threadId, resumed.history);
      call.after(() => connection.notify('thread/goal/cleared', { threadId }));
      const lastTurn = history.turns.at(-1);
      const initial = params.initialTurnsPage;
      return {
        thread,
        ...session,
        collaborationMode: {
          mode: 'default',
          settings: {
            model: session.model,
            reasoning_effort: session.reasoningEffort,
            developer_instructions: null,
          },
        },
        multiAgentMode: 'explicitRequestOnly',
        initialTurnsPage:
          initial === undefined
            ? null
            : pageTurns(threadId, history, {
                limit: clampLimit(initial.limit),
                direction: initial.sortDirection ?? 'desc',
                view: initial.itemsView ?? 'summary',
              }),
        // Only paginated threads have backwards cursors here (0.169.0 sends null for legacy).
        turnsBackwardsCursor:
          lastTurn === undefined || !history.paginated
            ? null
            : turnsCursor(threadId, history, lastTurn, true),
        itemsBackwardsCursor: itemsBackwardsCursor(threadId, history),
      };
    },
  };
}

/**
 * `manager.forkThread`, with 0.169.0's wording for an unknown `lastTurnId` of a legacy source
 * (`lastTurnId '<id>' was not found in the source thread`; paginated sources say
 * `turn not found: <id>`).
 */
async function forkWithCodexErrors(
  ctx: HandlerContext,
  sourceId: ThreadId,
  options: ForkThreadOptions,
): Promise<ForkedThread> {
  try {
    return await ctx.manager.forkThread(sourceId, options);
  } catch (error) {
    const lastTurnId = options.lastTurnId;
    if (
      lastTurnId !== undefined &&
      isThreadManagerError(error, 'TurnNotFound') &&
      error.threadId === lastTurnId
    ) {
      const source =
        ctx.manager.lookupThread(sourceId) ??
        (await readStored(ctx, sourceId, { includeArchived: true, includeHistory: false }));
      if (source !== null && source.historyMode === 'legacy') {
        throw RpcError.invalidRequest(
          `lastTurnId '${lastTurnId}' was not found in the source thread`,
        );
      }
    }
    throw error;
  }
}

export function forkHandler(ctx: HandlerContext): MethodHandler<ThreadForkParams> {
  return {
    schema: threadForkParams,
    async handle(call) {
      const { params, connection } = call;
      const sourceId = parseThreadIdParam(params.threadId, 'session') as ThreadId;
      checkPermissions(params);
      const excludeTurns = params.excludeTurns === true;
      if (params.ephemeral === true && !excludeTurns) {
        const source =
          ctx.manager.lookupThread(sourceId) ??
          (await readStored(ctx, sourceId, { includeArchived: true, includeHistory: false }));
        if (source !== null && source.historyMode === 'paginated') {
          throw RpcError.invalidRequest(
            'ephemeral paginated thread/fork requires `excludeTurns: true`',
          );
        }
      }
      const cwd = resolveCwd(ctx, params.cwd);
      // A fork keeps its source's originator (0.169.0), not the forking client's.
      const source =
        ctx.manager.lookupThread(sourceId) ??
        (await readStored(ctx, sourceId, { includeArchived: true, includeHistory: false }));
      // Past the source's own errors (missing, archived), an unknown provider fails the config.
      const sourceExists =
        source !== null &&
        ('materialized' in source ? source.materialized : source.archivedAtMs === null);
      if (sourceExists) refuseUnknownProvider(ctx, params.modelProvider);
      const originator =
        source?.originator !== undefined && source.originator !== null && source.originator !== ''
          ? source.originator
          : connection.clientName;
      const forked = await forkWithCodexErrors(ctx, sourceId, {
        ...(params.lastTurnId === undefined ? {} : { lastTurnId: params.lastTurnId }),
        ...(params.beforeTurnId === undefined ? {} : { beforeTurnId: params.beforeTurnId }),
        ephemeral: params.ephemeral === true,
        ...(cwd === undefined ? {} : { cwd }),
        // 0.169.0 forks onto the session's provider, model and effort, not the source's.
        modelProvider: params.modelProvider ?? ctx.defaultModelProvider,
        model: configuredModel(ctx.session, params.model),
        reasoningEffort: ctx.session.reasoningEffort,
        threadSource: (params.threadSource ?? null) as ThreadSource | null,
        originator,
        connectionId: connection.id,
      });
      const history = buildTurns(forked.history as HistoryItem[], false);
      if (!excludeTurns && forked.thread.historyMode === 'paginated') {
        connection.notify('deprecationNotice', {
          summary: DEPRECATION_EXCLUDE_TURNS,
          details: null,
        });
      }
      const stored = forked.thread.ephemeral ? null : await forked.thread.readStored();
      let wire: WireThread;
      if (stored !== null) {
        wire = wireThread(ctx, stored, forked.thread, excludeTurns ? [] : turnsOf(history));
      } else {
        const facts = liveOnlyFacts(ctx, forked.thread, forked.thread.createdAtMs);
        facts.preview = forked.source?.preview ?? '';
        wire = buildThread(
          facts,
          ctx.statusOf(forked.thread.threadId),
          excludeTurns ? [] : turnsOf(history),
        );
      }
      if (!excludeTurns) announceTokenUsage(call as Call<unknown>, wire.id, forked.history);
      announceStarted(ctx, call as Call<unknown>, wire);
      // A fork starts from its source's latest settings, wherever the turn cut falls (0.169.0).
      const recorded = recordedSettings(forked.sourceHistory as HistoryItem[]);
      if (!forked.thread.ephemeral) ctx.loadedSettings.set(forked.thread.threadId, recorded);
      return {
        thread: wire,
        ...sessionEcho(ctx.session, params, {
          model: configuredModel(ctx.session, params.model),
          modelProvider: forked.thread.modelProvider,
          cwd: forked.thread.cwd,
          reasoningEffort: ctx.session.reasoningEffort,
          recorded,
        }),
        multiAgentMode: 'explicitRequestOnly',
      };
    },
  };
}

/** The thread's own session meta in its history, or null. */
function sessionMetaOf(
  history: readonly { type: string; payload: unknown }[],
  threadId: string,
): Record<string, unknown> | null {
  for (const item of history) {
    if (item.type !== 'session_meta') continue;
    const payload = item.payload as Record<string, unknown>;
    if (String(payload.id ?? '').toLowerCase() === threadId) return payload;
  }
  return null;
}

/** The thread source a session meta records (a client's own label included), or null. */
function sessionMetaThreadSource(meta: Record<string, unknown>): string | null {
  return typeof meta.thread_source === 'string' && meta.thread_source !== ''
    ? meta.thread_source
    : null;
}
