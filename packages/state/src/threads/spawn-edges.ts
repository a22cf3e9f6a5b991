import type { ThreadId } from '@skein/protocol';
import { sql } from 'kysely';
import type { StateContext } from '../context.js';

/** Parent id of a `{"subagent":{"thread_spawn":{"parent_thread_id":…}}}` source, else null. */
export function spawnParentOfSource(source: string): string | null {
  if (!source.startsWith('{') || !source.includes('thread_spawn')) return null;
  try {
    const parsed = JSON.parse(source) as {
      subagent?: { thread_spawn?: { parent_thread_id?: unknown } };
    };
    const parent = parsed.subagent?.thread_spawn?.parent_thread_id;
    return typeof parent === 'string' && parent !== '' ? parent : null;
  } catch {
    return null;
  }
}

/** Records a parent → child edge (`ON CONFLICT DO NOTHING`, as Codex does). */
export async function insertSpawnEdge(
  ctx: Pick<StateContext, 'db' | 'profile'>,
  parentId: string,
  childId: string,
  status = 'open',
): Promise<void> {
  const values: Record<string, unknown> = {
    parent_thread_id: parentId,
    child_thread_id: childId,
    status,
  };
  // Codex's edge table has no time column; Skein's orders children by it.
  if (ctx.profile.layout === 'skein') values.created_at_ms = Date.now();
  await ctx.db
    .insertInto('thread_spawn_edges')
    .values(values as never)
    .onConflict((oc) => oc.column('child_thread_id').doNothing())
    .execute();
}

/**
 * Sets the status of the spawn edge that names `childId` (`open`, `closed`, …); false if there is
 * none.
 */
export async function setSpawnEdgeStatus(
  ctx: StateContext,
  childId: string,
  status: string,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable('thread_spawn_edges')
    .set({ status })
    .where('child_thread_id', '=', childId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A spawn edge: parent, child and status. */
export interface SpawnEdge {
  parentId: ThreadId;
  childId: ThreadId;
  status: string;
  /** 1 for children, 2 for grandchildren, ... */
  depth: number;
}

/** Direct children of a thread (spawned sub-agents), oldest first (ids are time-ordered v7). */
export async function listChildThreads(ctx: StateContext, parentId: string): Promise<SpawnEdge[]> {
  let query = ctx.db
    .selectFrom('thread_spawn_edges')
    .select(['parent_thread_id', 'child_thread_id', 'status'])
    .where('parent_thread_id', '=', parentId);
  if (ctx.profile.layout === 'skein') query = query.orderBy('created_at_ms');
  const rows = await query.orderBy('child_thread_id').execute();
  return rows.map((row) => ({
    parentId: row.parent_thread_id as ThreadId,
    childId: row.child_thread_id as ThreadId,
    status: row.status,
    depth: 1,
  }));
}

/** Every descendant of a thread (not the thread itself), breadth first; cycles are cut. */
export async function listDescendantThreads(
  ctx: StateContext,
  rootId: string,
): Promise<SpawnEdge[]> {
  const rows = await ctx.db
    .withRecursive('tree(parent_thread_id, child_thread_id, status, depth)', (db) =>
      db
        .selectFrom('thread_spawn_edges')
        // A literal, not a parameter: PostgreSQL types a recursive CTE's columns from this term.
        .select(['parent_thread_id', 'child_thread_id', 'status', sql<number>`1`.as('depth')])
        .where('parent_thread_id', '=', rootId)
        .unionAll((qb) =>
          qb
            .selectFrom('thread_spawn_edges as e')
            .innerJoin('tree as t', 't.child_thread_id', 'e.parent_thread_id')
            .select([
              'e.parent_thread_id',
              'e.child_thread_id',
              'e.status',
              (eb) => eb(eb.ref('t.depth'), '+', 1).as('depth'),
            ])
            // Bounded: a corrupted edge set with a cycle must not loop forever.
            .where('t.depth', '<', 64)
            .where('e.child_thread_id', '<>', rootId),
        ),
    )
    .selectFrom('tree')
    .select(['parent_thread_id', 'child_thread_id', 'status'])
    .select((eb) => eb.fn.min('depth').as('depth'))
    .groupBy(['parent_thread_id', 'child_thread_id', 'status'])
    .orderBy('depth')
    .orderBy('child_thread_id')
    .execute();
  const seen = new Set<string>();
  const out: SpawnEdge[] = [];
  for (const row of rows) {
    if (seen.has(row.child_thread_id)) continue;
    seen.add(row.child_thread_id);
    out.push({
      parentId: row.parent_thread_id as ThreadId,
      childId: row.child_thread_id as ThreadId,
      status: row.status,
      depth: Number(row.depth),
    });
  }
  return out;
}
