import { type Compilable, type CompiledQuery, createQueryId, type Kysely } from 'kysely';

/**
 * Hot read queries compiled once per shape. Building and compiling a Kysely query costs tens of
 * microseconds (a `thread/list` page built two), more than SQLite spends on a small page. A
 * query whose SQL text depends only on its shape (which filters are present, how many values
 * each `in` list holds, the sort) is built once with placeholder values, one per slot, and its
 * compiled parameters are traced back to those slots; later runs of the shape reuse the SQL
 * text with the slots' fresh values. A shape whose parameters cannot all be traced (a value
 * transformed while building) is never cached: it is built afresh every time.
 */

/** A placeholder value: which slot of the values it stands for. */
class Slot {
  constructor(readonly index: number) {}
}

interface CompiledShape {
  compiled: CompiledQuery;
  /** For each compiled parameter, the slot whose value it takes. */
  slots: number[];
}

/** Where a SQLite connection's compiled reads may skip Kysely's executor (a `StatementCache`). */
export interface DirectReads {
  directly(
    sql: string,
  ): { readonly reader: boolean; all(parameters: unknown): unknown[] } | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: any database's Kysely instance keys the map.
const directReadsByDb = new WeakMap<Kysely<any>, DirectReads>();

/**
 * Lets `executeShaped` run `db`'s compiled reads on the connection directly: Kysely's executor
 * (plugins, connection provider, driver lock, its promise hops) costs 3-5 µs a query with warm
 * code (a list page's two queries: 6-10 µs of ~130) and more while the code is still cold, as
 * much as SQLite spends on a point lookup. Only for an instance without result-transforming
 * plugins; `direct` hands out no statement while a transaction is open on the connection.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database's Kysely instance.
export function allowDirectReads(db: Kysely<any>, direct: DirectReads): void {
  directReadsByDb.set(db, direct);
}

/** Shapes kept per Kysely instance (oldest dropped first). */
const MAX_SHAPES = 128;
// biome-ignore lint/suspicious/noExplicitAny: any database's Kysely instance keys the cache.
const shapesByDb = new WeakMap<Kysely<any>, Map<string, CompiledShape | null>>();

/**
 * Runs the query `build` makes from `values`, compiled once per `shape` for `db`. `shape` must
 * say everything the SQL text depends on besides `values` (their count included); `build` may
 * only place values (never compute with them), or its shape is left uncached.
 */
export async function executeShaped<R>(
  // biome-ignore lint/suspicious/noExplicitAny: any database's Kysely instance.
  db: Kysely<any>,
  shape: string,
  values: readonly unknown[],
  build: (values: readonly unknown[]) => Compilable<R>,
): Promise<R[]> {
  let shapes = shapesByDb.get(db);
  if (shapes === undefined) {
    shapes = new Map();
    shapesByDb.set(db, shapes);
  }
  let entry = shapes.get(shape);
  if (entry === undefined) {
    entry = compileShape(values.length, build);
    if (shapes.size >= MAX_SHAPES) {
      const oldest = shapes.keys().next().value;
      if (oldest !== undefined) shapes.delete(oldest);
    }
    shapes.set(shape, entry);
  }
  if (entry === null) return (await db.executeQuery(build(values).compile())).rows;
  const { compiled, slots } = entry;
  const parameters = new Array<unknown>(slots.length);
  for (let i = 0; i < slots.length; i += 1) parameters[i] = values[slots[i] as number];
  const statement = directReadsByDb.get(db)?.directly(compiled.sql);
  if (statement?.reader) return statement.all(parameters) as R[];
  const result = await db.executeQuery<R>({ ...compiled, parameters, queryId: createQueryId() });
  return result.rows;
}

function compileShape<R>(
  count: number,
  build: (values: readonly unknown[]) => Compilable<R>,
): CompiledShape | null {
  const placeholders = Array.from({ length: count }, (_, index) => new Slot(index));
  let compiled: CompiledQuery;
  try {
    compiled = build(placeholders).compile();
  } catch {
    return null;
  }
  const slots: number[] = [];
  for (const parameter of compiled.parameters) {
    if (!(parameter instanceof Slot)) return null;
    slots.push(parameter.index);
  }
  return { compiled, slots };
}
