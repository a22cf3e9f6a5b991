/**
 * The shared content-search rule (`visibleText` and `containsTerm` of @skein/thread-store's
 * search-text.ts) as SQL over `thread_store_items`, so the database finds exactly the rows the
 * JS rule would: the same three line shapes, content parts' texts joined by '\n', and a
 * literal case-insensitive substring test (`strpos`, so `%` and `_` are plain characters).
 * Case folding uses the ICU root collation when the server has it, which lowercases as
 * JavaScript's `toLowerCase` does (full Unicode mappings); without ICU, the database's own.
 */
import { type Expression, type Kysely, type RawBuilder, sql } from 'kysely';

/** The collation whose `lower()` matches `String.prototype.toLowerCase`, if installed. */
const ICU_ROOT_COLLATION = 'und-x-icu';

const foldCollations = new WeakMap<object, Promise<string | null>>();

/** The collation to lowercase with on this database (looked up once per connection pool). */
export function caseFoldCollation<DB>(db: Kysely<DB>): Promise<string | null> {
  let found = foldCollations.get(db);
  if (found === undefined) {
    found = sql<{ collname: string }>`
      SELECT collname FROM pg_collation WHERE collname = ${ICU_ROOT_COLLATION} LIMIT 1`
      .execute(db)
      .then((result) => result.rows[0]?.collname ?? null);
    // A failed look-up is retried by the next search rather than remembered.
    found.catch(() => foldCollations.delete(db));
    foldCollations.set(db, found);
  }
  return found;
}

/** `content`'s parts' string `text`s joined by '\n', in order; '' when it is not an array. */
function partsText(content: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`CASE WHEN jsonb_typeof(${content}) = 'array' THEN COALESCE((
      SELECT string_agg(part.value ->> 'text', chr(10) ORDER BY part.ord)
      FROM jsonb_array_elements(${content}) WITH ORDINALITY AS part(value, ord)
      WHERE jsonb_typeof(part.value -> 'text') = 'string'), '') ELSE '' END`;
}

/** The visible text of the parsed item `record` (a jsonb expression), or NULL: `visibleText`. */
export function visibleTextSql(record: Expression<unknown>): RawBuilder<string | null> {
  const payload = sql`(${record} -> 'payload')`;
  const kind = sql`(${payload} ->> 'type')`;
  const item = sql`(${payload} -> 'item')`;
  return sql<string | null>`CASE
    WHEN ${record} ->> 'type' = 'event_msg' THEN CASE
      WHEN ${kind} IN ('user_message', 'agent_message')
        AND jsonb_typeof(${payload} -> 'message') = 'string' THEN ${payload} ->> 'message'
      WHEN ${kind} = 'item_completed' THEN CASE ${item} ->> 'type'
        WHEN 'UserMessage' THEN ${partsText(sql`(${item} -> 'content')`)}
        WHEN 'AgentMessage' THEN CASE
          WHEN jsonb_typeof(${item} -> 'text') = 'string' THEN ${item} ->> 'text'
          ELSE ${partsText(sql`(${item} -> 'content')`)} END
        END
      END
    WHEN ${record} ->> 'type' = 'response_item' AND ${kind} = 'message'
      AND ${payload} ->> 'role' IN ('user', 'assistant')
      THEN ${partsText(sql`(${payload} -> 'content')`)}
    END`;
}

/** `lower(text)` under the case-fold collation (see this file's header). */
function folded(text: Expression<unknown>, collation: string | null): RawBuilder<string> {
  return collation === null
    ? sql<string>`lower(${text})`
    : sql<string>`lower((${text}) COLLATE ${sql.id(collation)})`;
}

/**
 * Rows of `thread_store_items` (alias `i`) whose visible text contains `term`: a FROM clause
 * fragment that parses each row once (alias `parsed.record`), and its WHERE condition.
 */
export function visibleMatch(
  term: string,
  collation: string | null,
): { from: RawBuilder<unknown>; where: RawBuilder<boolean> } {
  const record = sql.ref('parsed.record');
  return {
    // OFFSET 0 keeps the sub-select from being inlined, which would re-parse per reference.
    from: sql`thread_store_items i
      CROSS JOIN LATERAL (SELECT i.item_json::jsonb AS record OFFSET 0) AS parsed`,
    where: sql<boolean>`strpos(${folded(visibleTextSql(record), collation)},
      ${folded(sql`${term}::text`, collation)}) > 0`,
  };
}
