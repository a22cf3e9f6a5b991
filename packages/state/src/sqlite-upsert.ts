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
import { metadataColumnValues, metadataToRow } from './threads/row.js';
import { spawnParentOfSource } from './threads/spawn-edges.js';
import { allocateThreadTimes, assertWritable, conflictUpdate } from './threads/write.js';

/**
 * SQLite-only bulk path for the backfill: `upsertThread`'s upsert (spec §5.4, its conflict
 * clause compiled once), as one prepared statement run many times inside one immediate
 * transaction, over the columns the DB's `threads` table has. Kysely's async round trip per row costs more than the write
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
  private readonly upserts: (
    | { statement: Statement; constants: readonly unknown[] }
    | undefined
  )[] = [];
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

  /**
   * The upsert of a variant, compiled from `upsertThread`'s own conflict clause (one set of
   * rules): the row's values are its first parameters, the clause's constants follow.
   */
  private upsert(variant: number): { statement: Statement; constants: readonly unknown[] } {
    let upsert = this.upserts[variant];
    if (upsert === undefined) {
      const compiled = this.ctx.db
        .insertInto('threads')
        .values(Object.fromEntries(this.columns.map((column) => [column, null])) as never)
        .onConflict((oc) =>
          conflictUpdate(oc, 'sqlite', this.ctx.profile.columns, {
            recencySupplied: (variant & WITH_RECENCY) !== 0,
            // The memory mode is the value inserted and overwrites on conflict (one statement
            // instead of an upsert plus an update per row).
            memoryMode: (variant & WITH_MEMORY_MODE) !== 0,
          }),
        )
        .compile();
      upsert = {
        statement: this.sqlite.prepare(compiled.sql),
        constants: compiled.parameters.slice(this.columns.length),
      };
      this.upserts[variant] = upsert;
    }
    return upsert;
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
        const values: unknown[] = this.columns.map((column) => all[column] ?? null);
        let variant = times.recencySupplied ? WITH_RECENCY : 0;
        if (entry.setMemoryMode !== undefined && this.memoryModeIndex >= 0) {
          variant |= WITH_MEMORY_MODE;
          values[this.memoryModeIndex] = entry.setMemoryMode;
        }
        const sidecarRecency = times.recencySupplied ? this.sidecarRecency : undefined;
        const previousRecency = sidecarRecency?.current(meta.id);
        const upsert = this.upsert(variant);
        for (const constant of upsert.constants) values.push(constant);
        upsert.statement.run(values);
        sidecarRecency?.write(meta.id, suppliedRecency(previousRecency, times.recencyAtMs));
        const parent = spawnParentOfSource(meta.source);
        if (parent) this.insertEdge.run(parent, meta.id);
      }
    });
    run.immediate();
    return entries.length;
  }
}
