/**
 * The census after the runs: every thread the scenario made, read back (thread/read and its
 * turns) by the last binary in a fresh process, and compared with what the book tracked.
 */
import { ensureCodexCli } from '../codex-cli.js';
import { AppServerSession, type JsonObject } from './app-server-session.js';
import type { RecorderContext } from './recorder-context.js';
import type { CensusEntry, RecordingState } from './recording-state.js';
import { asObject, gitInfoOf, itemText } from './thread-book.js';

/**
 * Read-only look at every thread the scenario made, by the last binary: `thread/read` and
 * its turns. Nothing here writes (codex-db-effects.md §2.1).
 */
export async function censusThreads(ctx: RecorderContext): Promise<void> {
  const last = ctx.state.scenario.runs.findLast((run) => run.kind === 'app-server');
  if (!last) return;
  ctx.log(`census: thread/read and turns of every thread (codex ${last.codex}, fresh process)`);
  ctx.state.censusVersion = last.codex;
  const session = new AppServerSession({
    binary: ensureCodexCli(last.codex).binary,
    cwd: ctx.state.projectsDir,
    env: ctx.env(last.tz),
    transcript: (dir, msg) => ctx.record('census', dir, msg),
  });
  try {
    await session.initialize('skein_recorder_census', true);
    await readAllThreads(ctx, session);
  } finally {
    const code = await session.close();
    ctx.record('census', 'process', { event: 'exit', code });
  }
}

async function readAllThreads(ctx: RecorderContext, session: AppServerSession): Promise<void> {
  for (const thread of ctx.state.book.threads) {
    if (thread.ephemeral) continue;
    const entry: CensusEntry = {};
    const read = await session.request('thread/read', { threadId: thread.id });
    if (read.ok) entry.read = read.result;
    else entry.readError = read.error.message;
    if (read.ok) {
      const turns: JsonObject[] = [];
      let cursor: string | null = null;
      let error: string | undefined;
      for (let page = 0; page < 10; page += 1) {
        const params: JsonObject = {
          threadId: thread.id,
          limit: 100,
          sortDirection: 'asc',
          itemsView: 'full',
        };
        if (cursor) params.cursor = cursor;
        const answer = await session.request('thread/turns/list', params);
        if (!answer.ok) {
          error = answer.error.message;
          break;
        }
        turns.push(...((answer.result.data as JsonObject[] | undefined) ?? []));
        cursor = typeof answer.result.nextCursor === 'string' ? answer.result.nextCursor : null;
        if (!cursor) break;
      }
      if (error !== undefined) {
        // 0.131 has no thread/turns/list: read the turns with the thread instead.
        const full = await session.request('thread/read', {
          threadId: thread.id,
          includeTurns: true,
        });
        if (full.ok) entry.turns = (asObject(full.result.thread).turns as JsonObject[]) ?? [];
        else entry.turnsError = `${error}; includeTurns: ${full.error.message}`;
      } else {
        entry.turns = turns;
      }
    }
    ctx.state.census.set(thread.key, entry);
  }
}

/**
 * Compares what the book tracked with the census answers; differences become problems. Turn ids
 * of threads written outside the app-server (exec, TUI) are only known from the census.
 */
export function reconcile(state: RecordingState): void {
  for (const thread of state.book.threads) {
    const entry = state.census.get(thread.key);
    if (!entry) continue;
    const own = state.book.ownTurns(thread.id);
    if (entry.turns && own.length === entry.turns.length && own.every((turn) => turn.id === '')) {
      own.forEach((turn, index) => {
        turn.id = String(entry.turns?.[index]?.id ?? '');
      });
    }
    const where = `${thread.key} (${thread.id})`;
    const expectReadable = thread.persisted && !thread.deleted;
    if (!entry.read) {
      if (expectReadable) {
        state.problems.push(`${where}: census thread/read failed: ${entry.readError}`);
      }
      continue;
    }
    const api = asObject(entry.read.thread);
    if (!expectReadable) {
      state.problems.push(`${where}: expected gone, but thread/read answers it`);
      continue;
    }
    const same = (field: string, ours: unknown, theirs: unknown) => {
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        state.apiDifferences.push(
          `${where}: ${field} tracked ${JSON.stringify(ours)}, census ${JSON.stringify(theirs)}`,
        );
      }
    };
    same('name', thread.name, api.name ?? null);
    same('gitInfo', thread.gitInfo, gitInfoOf(api.gitInfo));
    same('forkedFromId', thread.forkedFromId, api.forkedFromId ?? null);
    same('parentThreadId', thread.parentThreadId, api.parentThreadId ?? null);
    if (entry.turns) {
      const turns = state.book.allTurns(thread);
      const ids = turns.map((turn) => turn.id).filter((id) => id !== '');
      const censusIds = entry.turns.map((turn) => String(turn.id));
      if (ids.length > 0) same('turnIds', ids, censusIds);
      const users = entry.turns.map((turn) =>
        ((turn.items as JsonObject[] | undefined) ?? [])
          .filter((item) => item.type === 'userMessage')
          .map((item) => itemText(item)),
      );
      same(
        'userMessages',
        turns.map((turn) => turn.userMessages),
        users,
      );
    }
  }
}
