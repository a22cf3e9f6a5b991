import type { Database, Statement } from 'better-sqlite3';
import type { StateContext } from './context.js';
import { StateError } from './errors.js';
import type { ThreadId } from './thread-id.js';
import {
  defaultThreadMetadata,
  type ThreadMemoryModeValue,
  type ThreadMetadata,
} from './thread-metadata.js';
import {
  allocateThreadTimes,
  metadataToThreadRow,
  PLAIN_UPDATE_COLUMNS,
  spawnParentOfSource,
} from './threads.js';

/**
 * SQLite-only bulk path for the backfill: the same upsert rules as `upsertThread` (spec §5.4),
 * as one prepared statement run many times inside one immediate transaction. Kysely's async
 * round trip per row costs more than the write itself at 10,000 rows; this path is checked
 * against `upsertThread` by a test that runs both over the same inputs.
 */
export interface BatchUpsertEntry {
  metadata: ThreadMetadata;
  /** Sets `name` when given (backfill: the session index name); upsert leaves it otherwise. */
  setName?: string;
  /** Sets `memory_mode` when given (backfill: the rollout's own mode). */
  setMemoryMode?: ThreadMemoryModeValue;
}

/** Every `threads` column, in the order the prepared statement binds them. */
export interface BatchUpsertOptions {
  /** Heartbeat this lease in the batch's transaction; roll back if it was lost. */
  lease?: { name: string; ownerId: string; durationMs: number };
  /** Record backfill progress in the batch's transaction. */
  checkpoint?: { watermark: string; done: number; failed: number };
}

const INSERT_COLUMNS = [
  'id',
  'rollout_path',
  ...PLAIN_UPDATE_COLUMNS.filter((c) => c !== 'rollout_path'),
  'recency_at_ms',
  'name',
  'preview',
  'git_sha',
  'git_branch',
  'git_origin_url',
  'memory_mode',
  'parent_thread_id',
  'forked_from_id',
  'history_mode',
  'originator',
] as const;

/** Statement variants: which of recency, name and memory mode the row sets on conflict. */
const WITH_RECENCY = 1;
const WITH_NAME = 2;
const WITH_MEMORY_MODE = 4;
const NAME_INDEX = INSERT_COLUMNS.indexOf('name');
const MEMORY_MODE_INDEX = INSERT_COLUMNS.indexOf('memory_mode');

function upsertSql(variant: number): string {
  const recencySupplied = (variant & WITH_RECENCY) !== 0;
  const sets = PLAIN_UPDATE_COLUMNS.map((c) => `${c} = excluded.${c}`);
  // `setName` / `setMemoryMode` are the values inserted, and overwrite on conflict (one
  // statement instead of an upsert plus an update per row).
  if ((variant & WITH_NAME) !== 0) sets.push('name = excluded.name');
  if ((variant & WITH_MEMORY_MODE) !== 0) sets.push('memory_mode = excluded.memory_mode');
  sets.push(
    `preview = coalesce(nullif(excluded.preview, ''), threads.preview)`,
    'git_sha = coalesce(threads.git_sha, excluded.git_sha)',
    'git_branch = coalesce(threads.git_branch, excluded.git_branch)',
    'git_origin_url = coalesce(threads.git_origin_url, excluded.git_origin_url)',
    'originator = coalesce(threads.originator, excluded.originator)',
    'parent_thread_id = coalesce(excluded.parent_thread_id, threads.parent_thread_id)',
    'forked_from_id = coalesce(excluded.forked_from_id, threads.forked_from_id)',
    `history_mode = case when threads.history_mode = 'paginated' then 'paginated' else excluded.history_mode end`,
    recencySupplied
      ? 'recency_at_ms = max(excluded.recency_at_ms, threads.recency_at_ms + 1)'
      : 'recency_at_ms = threads.recency_at_ms',
  );
  return `insert into threads (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map(() => '?').join(', ')})
    on conflict (id) do update set ${sets.join(', ')}`;
}

export class SqliteBatchUpserter {
  /** Upsert statements by variant (`WITH_*` bits), prepared on first use. */
  private readonly upserts: (Statement | undefined)[] = [];
  private readonly insertEdge: Statement;
  private readonly heartbeat: Statement;
  private readonly checkpoint: Statement;

  constructor(
    private readonly sqlite: Database,
    private readonly ctx: StateContext,
  ) {
    const rowColumns = Object.keys(
      metadataToThreadRow(defaultThreadMetadata('' as ThreadId, '', 0, '', ''), 0, 0),
    );
    const missing = rowColumns.filter((c) => !(INSERT_COLUMNS as readonly string[]).includes(c));
    if (missing.length > 0) throw new Error(`batch upsert misses columns: ${missing.join(', ')}`);
    this.heartbeat = sqlite.prepare(
      'update leases set heartbeat_at_ms = ?, expires_at_ms = ? where name = ? and owner_id = ?',
    );
    this.checkpoint = sqlite.prepare(
      `update backfill_state set last_watermark = ?, updated_at_ms = ?,
         files_done = files_done + ?, files_failed = files_failed + ? where id = 1`,
    );
    this.insertEdge = sqlite.prepare(
      `insert into thread_spawn_edges (parent_thread_id, child_thread_id, status, created_at_ms)
       values (?, ?, 'open', ?) on conflict (child_thread_id) do nothing`,
    );
  }

  private statement(variant: number): Statement {
    let statement = this.upserts[variant];
    if (statement === undefined) {
      statement = this.sqlite.prepare(upsertSql(variant));
      this.upserts[variant] = statement;
    }
    return statement;
  }

  /**
   * Upserts every entry in one transaction; returns how many were written. With `lease`, the
   * lease is heartbeated in the same transaction and a lost lease rolls the batch back
   * (`LeaseLost`); with `checkpoint`, the backfill progress moves with the rows it covers.
   */
  upsertMany(entries: readonly BatchUpsertEntry[], options: BatchUpsertOptions = {}): number {
    const run = this.sqlite.transaction(() => {
      if (options.lease) {
        const lease = options.lease;
        const now = Date.now();
        const held = this.heartbeat.run(now, now + lease.durationMs, lease.name, lease.ownerId);
        if (held.changes === 0) {
          throw new StateError(
            'LeaseLost',
            `lease ${lease.name} is no longer held by this process`,
          );
        }
      }
      const now = Date.now();
      for (const entry of entries) {
        const meta = entry.metadata;
        const times = allocateThreadTimes(this.ctx, meta);
        const row = metadataToThreadRow(meta, times.updatedAtMs, times.recencyAtMs) as Record<
          string,
          unknown
        >;
        const values = INSERT_COLUMNS.map((column) => row[column] ?? null);
        let variant = times.recencySupplied ? WITH_RECENCY : 0;
        if (entry.setName !== undefined) {
          variant |= WITH_NAME;
          values[NAME_INDEX] = entry.setName;
        }
        if (entry.setMemoryMode !== undefined) {
          variant |= WITH_MEMORY_MODE;
          values[MEMORY_MODE_INDEX] = entry.setMemoryMode;
        }
        this.statement(variant).run(values);
        const parent = spawnParentOfSource(meta.source);
        if (parent) this.insertEdge.run(parent, meta.id, now);
      }
      if (options.checkpoint) {
        const c = options.checkpoint;
        this.checkpoint.run(c.watermark, Date.now(), c.done, c.failed);
      }
    });
    run.immediate();
    return entries.length;
  }
}
