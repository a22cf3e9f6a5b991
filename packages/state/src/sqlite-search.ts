import type { Database } from 'better-sqlite3';
import type { ThreadSearchIndex } from './context.js';

/*
 * A trigram full-text index over the searchable thread text (name, title, preview), SQLite only.
 * A search term is a case-sensitive substring; a scan of 10,000 rows for a rare term costs
 * ~9 ms, while the index answers it in well under one. The index only narrows: the list query
 * still applies the exact substring test to every candidate, so the results are the scan's.
 *
 * The index holds its own copy of the text, keyed by the thread id through a mapping table
 * (never by the `threads` rowid, which VACUUM may renumber). Triggers keep it current while it
 * is "ready"; it starts unready (a fresh or bulk-imported DB) and the first search builds it in
 * one pass, so the first import and startup pay nothing for it.
 */

/** Trigger body: index the new row under the next search rowid. */
const INDEX_NEW_ROW = `
     insert into thread_search_rowid (thread_id, search_rowid)
       select new.id, next_rowid from thread_search_state where id = 1;
     insert into thread_search (rowid, thread_id, name, title, preview)
       select next_rowid, new.id, new.name, new.title, new.preview
         from thread_search_state where id = 1;
     update thread_search_state set next_rowid = next_rowid + 1 where id = 1;`;

/** Trigger body: drop the old row's entry, found through the id mapping. */
const UNINDEX_OLD_ROW = `
     delete from thread_search where rowid =
       (select search_rowid from thread_search_rowid where thread_id = old.id);
     delete from thread_search_rowid where thread_id = old.id;`;

/** Schema for migration 0005 (SQLite). Statements run in order. */
export const THREAD_SEARCH_SCHEMA_SQL: readonly string[] = [
  `create table thread_search_state (
     id integer primary key check (id = 1),
     ready integer not null,
     next_rowid integer not null
   )`,
  'insert into thread_search_state (id, ready, next_rowid) values (1, 0, 1)',
  `create virtual table thread_search using fts5(
     thread_id unindexed, name, title, preview,
     tokenize = 'trigram case_sensitive 1'
   )`,
  `create table thread_search_rowid (
     thread_id text primary key,
     search_rowid integer not null
   ) without rowid`,
  `create trigger thread_search_after_insert after insert on threads
     when (select ready from thread_search_state where id = 1) = 1
   begin${INDEX_NEW_ROW}
   end`,
  `create trigger thread_search_after_update after update of id, name, title, preview on threads
     when (select ready from thread_search_state where id = 1) = 1
       and (old.id is not new.id or old.name is not new.name
            or old.title is not new.title or old.preview is not new.preview)
   begin${UNINDEX_OLD_ROW}${INDEX_NEW_ROW}
   end`,
  `create trigger thread_search_after_delete after delete on threads
     when (select ready from thread_search_state where id = 1) = 1
   begin${UNINDEX_OLD_ROW}
   end`,
];

/** Trigrams need three characters; shorter terms are answered by the scan. */
const MIN_INDEXED_TERM_CHARS = 3;

/**
 * Above this many candidates the term is common: the ordered scan finds a page within about
 * `pageSize × rows / 500` rows, which costs less than reading and sorting every candidate.
 * Measured at 10,000 rows: reading 500 candidates ~0.4-0.8 ms, the worst scan after it ~1 ms.
 */
export const MAX_SEARCH_CANDIDATES = 500;

export class SqliteThreadSearch implements ThreadSearchIndex {
  readonly #sqlite: Database;
  #broken = false;

  constructor(sqlite: Database) {
    this.#sqlite = sqlite;
  }

  /**
   * Ids of the threads whose name, title or preview may contain `term` (a superset of the
   * matches), or null when the scan should answer instead: a short or common term, or an
   * index that cannot be used.
   */
  candidateIds(term: string): string[] | null {
    if (this.#broken || [...term].length < MIN_INDEXED_TERM_CHARS) return null;
    try {
      if (!this.#ensureReady()) return null;
      const match = `"${term.replaceAll('"', '""')}"`;
      const ids = this.#sqlite
        .prepare('select thread_id from thread_search where thread_search match ? limit ?')
        .pluck()
        .all(match, MAX_SEARCH_CANDIDATES + 1) as string[];
      return ids.length > MAX_SEARCH_CANDIDATES ? null : ids;
    } catch (error) {
      // A busy writer (the build waits on the lock): try again next time. No FTS5 or a damaged
      // index: stop trying. Either way the scan gives the same answer, slower.
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') this.#broken = true;
      return null;
    }
  }

  /** Builds the index from `threads` in one immediate transaction when it is not ready. */
  #ensureReady(): boolean {
    const ready = () =>
      this.#sqlite.prepare('select ready from thread_search_state where id = 1').pluck().get() ===
      1;
    if (ready()) return true;
    const build = this.#sqlite.transaction(() => {
      if (ready()) return;
      this.#sqlite.exec('delete from thread_search; delete from thread_search_rowid;');
      this.#sqlite.exec(`insert into thread_search_rowid (thread_id, search_rowid)
        select id, row_number() over (order by id) from threads`);
      this.#sqlite.exec(`insert into thread_search (rowid, thread_id, name, title, preview)
        select m.search_rowid, t.id, t.name, t.title, t.preview
          from threads t join thread_search_rowid m on m.thread_id = t.id`);
      this.#sqlite.exec(`update thread_search_state
        set ready = 1, next_rowid = coalesce((select max(search_rowid) from thread_search_rowid), 0) + 1
        where id = 1`);
    });
    build.immediate();
    return true;
  }
}
