import type { ThreadId } from '@skein/protocol';
import {
  defaultThreadMetadata,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
} from '@skein/protocol';
import type { Database, Statement } from 'better-sqlite3';
import type { StateContext } from './context.js';
import { StateError } from './errors.js';
import { recencyInSidecar, SidecarRecencyStatements, suppliedRecency } from './sidecar/recency.js';
import {
  EXISTING_WINS_COLUMNS,
  metadataColumnValues,
  metadataToRow,
  NEW_WINS_COLUMNS,
  PLAIN_UPDATE_COLUMNS,
} from './threads/row.js';
import { spawnParentOfSource } from './threads/spawn-edges.js';
import { allocateThreadTimes, assertWritable } from './threads/write.js';

/**
 * SQLite-only bulk path for the backfill: the same upsert rules as `upsertThread` (spec §5.4),
 * as one prepared statement run many times inside one immediate transaction, over the columns
 * the DB's `threads` table has. Kysely's async round trip per row costs more than the write
 * itself at 10,000 rows; a test runs both paths over the same inputs and compares.
 */
export interface BatchUpsertEntry {
  metadata: ThreadMetadata;
  /** Sets `memory_mode` when given (backfill: the rollout's own mode). */
  setMemoryMode?: ThreadMemoryModeValue;
}

/**
 * Options of a batched thread upsert (the backfill's): the backfill row to move forward in the
 * same transaction.
 */
export interface BatchUpsertOptions {
  /**
   * Codex's backfill row, heartbeated and moved to `watermark` in the batch's transaction: a
   * batch commits with the progress it covers, so a run killed at any point resumes after the
   * last committed batch. Rolls back (`LeaseLost`) when the row is no longer `running`.
   */
  checkpoint?: { watermark: string; updatedAtSeconds: number };
}

/** Statement variants: which of recency and memory mode the row sets on conflict. */
const WITH_RECENCY = 1;
const WITH_MEMORY_MODE = 2;

export class SqliteBatchUpserter {
  /** Upsert statements by variant (`WITH_*` bits), prepared on first use. */
  private readonly upserts: (Statement | undefined)[] = [];
  private readonly columns: readonly string[];
  private readonly memoryModeIndex: number;
  private readonly insertEdge: Statement;
  private readonly checkpoint: Statement;
  /** A Codex 0.131 DB's recency, kept in the sidecar (see `sidecar/recency.ts`). */
  private readonly sidecarRecency: SidecarRecencyStatements | undefined;

  constructor(
    private readonly sqlite: Database,
    private readonly ctx: StateContext,
  ) {
    assertWritable(ctx);
    this.columns = Object.keys(
      metadataToRow(defaultThreadMetadata('' as ThreadId, '', 0, '', ''), 0, 0, ctx.profile),
    );
    this.memoryModeIndex = this.columns.indexOf('memory_mode');
    this.checkpoint = sqlite.prepare(
      `update backfill_state set last_watermark = ?, updated_at = ?
        where id = 1 and status = 'running'`,
    );
    this.sidecarRecency = recencyInSidecar(ctx) ? new SidecarRecencyStatements(sqlite) : undefined;
    this.insertEdge = sqlite.prepare(
      `insert into thread_spawn_edges (parent_thread_id, child_thread_id, status)
       values (?, ?, 'open') on conflict (child_thread_id) do nothing`,
    );
  }

  private upsertSql(variant: number): string {
    const has = (column: string) => this.columns.includes(column);
    const sets = PLAIN_UPDATE_COLUMNS.filter(has).map((c) => `${c} = excluded.${c}`);
    // The memory mode is the value inserted and overwrites on conflict (one statement instead
    // of an upsert plus an update per row).
    if ((variant & WITH_MEMORY_MODE) !== 0 && has('memory_mode'))
      sets.push('memory_mode = excluded.memory_mode');
    sets.push(`preview = coalesce(nullif(excluded.preview, ''), threads.preview)`);
    for (const c of EXISTING_WINS_COLUMNS.filter(has))
      sets.push(`${c} = coalesce(threads.${c}, excluded.${c})`);
    for (const c of NEW_WINS_COLUMNS.filter(has))
      sets.push(`${c} = coalesce(excluded.${c}, threads.${c})`);
    if (has('history_mode')) {
      sets.push(
        `history_mode = case when threads.history_mode = 'paginated' then 'paginated' else excluded.history_mode end`,
      );
    }
    if ((variant & WITH_RECENCY) !== 0 && has('recency_at_ms')) {
      sets.push('recency_at_ms = max(excluded.recency_at_ms, threads.recency_at_ms + 1)');
      if (has('recency_at'))
        sets.push(
          'recency_at = cast(max(excluded.recency_at_ms, threads.recency_at_ms + 1) / 1000 as bigint)',
        );
    }
    return `insert into threads (${this.columns.join(', ')}) values (${this.columns.map(() => '?').join(', ')})
      on conflict (id) do update set ${sets.join(', ')}`;
  }

  private statement(variant: number): Statement {
    let statement = this.upserts[variant];
    if (statement === undefined) {
      statement = this.sqlite.prepare(this.upsertSql(variant));
      this.upserts[variant] = statement;
    }
    return statement;
  }

  /** Upserts every entry in one transaction; returns how many were written. */
  upsertMany(entries: readonly BatchUpsertEntry[], options: BatchUpsertOptions = {}): number {
    const run = this.sqlite.transaction(() => {
      if (options.checkpoint) {
        const c = options.checkpoint;
        if (this.checkpoint.run(c.watermark, c.updatedAtSeconds).changes === 0) {
          throw new StateError('LeaseLost', 'the backfill is no longer running under our lease');
        }
      }
      for (const entry of entries) {
        const meta = entry.metadata;
        const times = allocateThreadTimes(this.ctx, meta);
        const all = metadataColumnValues(
          meta,
          times.updatedAtMs,
          times.recencyAtMs,
          this.ctx.profile,
        );
        const values = this.columns.map((column) => all[column] ?? null);
        let variant = times.recencySupplied ? WITH_RECENCY : 0;
        if (entry.setMemoryMode !== undefined && this.memoryModeIndex >= 0) {
          variant |= WITH_MEMORY_MODE;
          values[this.memoryModeIndex] = entry.setMemoryMode;
        }
        const sidecarRecency = times.recencySupplied ? this.sidecarRecency : undefined;
        const previousRecency = sidecarRecency?.current(meta.id);
        this.statement(variant).run(values);
        sidecarRecency?.write(meta.id, suppliedRecency(previousRecency, times.recencyAtMs));
        const parent = spawnParentOfSource(meta.source);
        if (parent) this.insertEdge.run(parent, meta.id);
      }
    });
    run.immediate();
    return entries.length;
  }
}
