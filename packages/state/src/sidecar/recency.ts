import type { Database } from 'better-sqlite3';
import { sql } from 'kysely';
import type { StateContext } from '../context.js';

/*
 * Recency of a Codex 0.131 DB, kept in Skein's sidecar.
 *
 * Codex 0.169 adds `recency_at_ms` when it migrates a 0.131 DB, set to each row's update time,
 * and from then on only a turn start moves it (a re-derivation, a rename, an archive move the
 * update time and leave recency). Skein never adds the column (ARCHITECTURE decision 2), so for
 * such a DB the sidecar's `skein_thread_recency` holds what the column would: every row is
 * seeded from its update time when Skein opens the DB, and temporary triggers on Skein's own
 * connection (they live in the connection's TEMP schema; nothing is written into Codex's file)
 * keep it complete as rows come, change their update time and go. The recency listing walks the
 * sidecar's `(recency_at_ms, thread_id)` index and looks each row up in `threads`.
 */

/** The schema name the sidecar is attached under on the connection to Codex's DB. */
export const SIDECAR_SCHEMA = 'skein';

/** What a row's update time is in ms (0.131 rows may hold only the seconds column). */
const UPDATED_MS = (alias: string) =>
  `coalesce(${alias}.updated_at_ms, ${alias}.updated_at * 1000)`;

const RECENCY_TRIGGERS = {
  skein_recency_after_insert: `create temp trigger if not exists skein_recency_after_insert
     after insert on main.threads
   begin
     insert or ignore into skein_thread_recency (thread_id, recency_at_ms)
       values (new.id, ${UPDATED_MS('new')});
   end`,
  // The first change of a row's update time keeps the old one as its recency (an earlier
  // recency, seeded or moved by a turn, stays: `or ignore`).
  skein_recency_after_update: `create temp trigger if not exists skein_recency_after_update
     after update of updated_at, updated_at_ms on main.threads
     when ${UPDATED_MS('old')} is not ${UPDATED_MS('new')}
       and not exists (select 1 from skein_thread_recency where thread_id = old.id)
   begin
     insert or ignore into skein_thread_recency (thread_id, recency_at_ms)
       values (old.id, ${UPDATED_MS('old')});
   end`,
  skein_recency_after_delete: `create temp trigger if not exists skein_recency_after_delete
     after delete on main.threads
   begin
     delete from skein_thread_recency where thread_id = old.id;
   end`,
} as const;

/**
 * Starts keeping recency in the sidecar (attached as `skein`): the connection's triggers, then
 * every row not yet there seeded from its update time.
 */
export function startSidecarRecency(sqlite: Database): void {
  for (const statement of Object.values(RECENCY_TRIGGERS)) sqlite.exec(statement);
  completeSidecarRecency(sqlite);
}

/** Stops it (the DB has its own recency now: a newer Codex migrated it). */
export function stopSidecarRecency(sqlite: Database): void {
  for (const name of Object.keys(RECENCY_TRIGGERS))
    sqlite.exec(`drop trigger if exists temp.${name}`);
}

/**
 * For a bulk import into the empty table: drops the connection's insert trigger (one sidecar
 * insert per row, a fifth of the import's time) when it has one, and says whether it did.
 * Inside the import's transaction, so its rollback brings the trigger back;
 * `resumeSidecarRecencyInserts` restores it and seeds the imported rows in one statement.
 */
export function suspendSidecarRecencyInserts(sqlite: Database): boolean {
  const present = sqlite
    .prepare(`select 1 from sqlite_temp_master where type = 'trigger' and name = ?`)
    .get('skein_recency_after_insert');
  if (present === undefined) return false;
  sqlite.exec('drop trigger temp.skein_recency_after_insert');
  return true;
}

/** Undoes `suspendSidecarRecencyInserts`: the trigger again, and the rows it missed seeded. */
export function resumeSidecarRecencyInserts(sqlite: Database): void {
  sqlite.exec(RECENCY_TRIGGERS.skein_recency_after_insert);
  completeSidecarRecency(sqlite);
}

/** Seeds the rows the sidecar does not have (added by another process) from their update time. */
export function completeSidecarRecency(sqlite: Database): void {
  if (sqlite.prepare(MISSING_RECENCY).get() !== undefined) sqlite.exec(COMPLETE_RECENCY);
}

/**
 * Whether any row lacks its recency, read before writing: every open of the DB asks, and the
 * answer is nearly always no. Both ids come in index order, so SQLite merges the two indexes
 * (half the time of a lookup per row), and no write transaction waits out another writer of
 * the sidecar for nothing.
 */
const MISSING_RECENCY = `select id from main.threads
  except select thread_id from ${SIDECAR_SCHEMA}.skein_thread_recency order by 1 limit 1`;

const COMPLETE_RECENCY = `insert into ${SIDECAR_SCHEMA}.skein_thread_recency (thread_id, recency_at_ms)
  select t.id, ${UPDATED_MS('t')} from main.threads t
   where not exists (select 1 from ${SIDECAR_SCHEMA}.skein_thread_recency r where r.thread_id = t.id)`;

/** Whether this context keeps recency in the sidecar (a Codex 0.131 DB). */
export function recencyInSidecar(ctx: StateContext): boolean {
  return ctx.sidecar?.recency === true;
}

/**
 * Before a recency listing: rows another process added since the last look get their recency
 * (Skein's own inserts have it from the trigger). `data_version` moves only when another
 * connection commits, so a quiet DB costs one pragma.
 */
export async function refreshSidecarRecency(ctx: StateContext): Promise<void> {
  const sidecar = ctx.sidecar;
  if (!sidecar?.recency) return;
  const { rows } = await sql<{ data_version: number }>`pragma main.data_version`.execute(ctx.db);
  const version = Number(rows[0]?.data_version ?? 0);
  if (version === sidecar.seenDataVersion) return;
  const { rows: missing } = await sql.raw(MISSING_RECENCY).execute(ctx.db);
  if (missing.length > 0) await sql.raw(COMPLETE_RECENCY).execute(ctx.db);
  sidecar.seenDataVersion = version;
}

/**
 * A thread's current recency as 0.169 would hold it (its sidecar row, else its update time), or
 * undefined when the thread has no row.
 */
export async function sidecarRecencyOf(
  ctx: StateContext,
  threadId: string,
): Promise<number | undefined> {
  const { rows } = await sql<{ recency: number }>`select coalesce(r.recency_at_ms,
      t.updated_at_ms, t.updated_at * 1000) as recency
    from main.threads t
    left join ${sql.raw(SIDECAR_SCHEMA)}.skein_thread_recency r on r.thread_id = t.id
    where t.id = ${threadId}`.execute(ctx.db);
  const row = rows[0];
  return row === undefined ? undefined : Number(row.recency);
}

/** Sets a thread's sidecar recency. */
export async function writeSidecarRecency(
  ctx: StateContext,
  threadId: string,
  recencyAtMs: number,
): Promise<void> {
  await sql`insert into ${sql.raw(SIDECAR_SCHEMA)}.skein_thread_recency (thread_id, recency_at_ms)
    values (${threadId}, cast(${Math.trunc(recencyAtMs)} as integer))
    on conflict (thread_id) do update set recency_at_ms = excluded.recency_at_ms`.execute(ctx.db);
}

/**
 * Moves a thread's recency forward to at least `targetMs` (a turn start), as 0.169's
 * `recency_at_ms` moves; a thread without a row is left alone.
 */
export async function advanceSidecarRecency(
  ctx: StateContext,
  threadId: string,
  targetMs: number,
): Promise<void> {
  const current = await sidecarRecencyOf(ctx, threadId);
  if (current === undefined) return;
  await writeSidecarRecency(ctx, threadId, Math.max(current, Math.trunc(targetMs)));
}

/**
 * The recency an upsert that supplies one leaves, as 0.169's upsert computes it: the supplied
 * value on insert, on update at least one past the stored recency.
 */
export function suppliedRecency(previous: number | undefined, supplied: number): number {
  return previous === undefined ? supplied : Math.max(supplied, previous + 1);
}

/**
 * The same two steps for the batch upsert, on the raw connection (one prepared pair per
 * connection): read before the row is written, write after.
 */
export class SidecarRecencyStatements {
  readonly #read;
  readonly #write;

  constructor(sqlite: Database) {
    this.#read = sqlite.prepare(`select coalesce(r.recency_at_ms, t.updated_at_ms,
        t.updated_at * 1000) as recency
      from main.threads t
      left join ${SIDECAR_SCHEMA}.skein_thread_recency r on r.thread_id = t.id
      where t.id = ?`);
    this.#write = sqlite.prepare(`insert into ${SIDECAR_SCHEMA}.skein_thread_recency
      (thread_id, recency_at_ms) values (?, ?)
      on conflict (thread_id) do update set recency_at_ms = excluded.recency_at_ms`);
  }

  current(threadId: string): number | undefined {
    const row = this.#read.get(threadId) as { recency: number } | undefined;
    return row === undefined ? undefined : Number(row.recency);
  }

  write(threadId: string, recencyAtMs: number): void {
    this.#write.run(threadId, Math.trunc(recencyAtMs));
  }
}
