import { dataVersion, type StateDb, type ThreadMetadata, wallClockNs } from '@skein/state';
import {
  type StatSignature,
  sameSignature,
  vouchesForRead,
  WeightedLru,
} from '../file-signature.js';
import { readHeadSummary, statRollout } from '../head-summary.js';
import { type RepairOptions, reconcileRolloutFile } from './repair.js';

/*
 * Codex's list re-derives DB rows from their rollouts on every call that needs them (a search's
 * DB hits, the DB page's rows a filtered listing did not meet among the files). Re-deriving is
 * a full read of the rollout and a handful of statements. It gives the same row again while
 * neither the file nor the row changed, with one exception: `updated_at_ms` is the file's mtime
 * allocated afresh (spec §5.5), and a time in the allocator's hot second (the newest second
 * written) moves to the high-water mark + 1 at every re-derive, as Codex's does. So what a
 * re-derive left is kept, and the next listing that finds the same file and the same row, its
 * time already the file's and clear of the hot second, skips it.
 */

/**
 * Originators Codex 0.169 would have written while re-deriving rows, for a DB without the
 * `originator` column (a 0.131 schema Skein does not migrate): 0.169 adds the column and fills
 * it from the rollout when it re-derives a row, so its later DB pages show it.
 */
const rederivedOriginators = new WeakMap<StateDb, Map<string, string>>();

/** Re-derives a row from its rollout as Codex's list does; the row it left, or null. */
export async function rederive(
  db: StateDb,
  path: string,
  repair: RepairOptions,
): Promise<ThreadMetadata | null> {
  const row = await reconcileRolloutFile(db, path, repair).catch(() => null);
  if (db.profile.columns.has('originator')) return row;
  const head = await readHeadSummary(path).catch(() => null);
  const originator = head?.sessionMeta?.originator;
  if (head?.threadId == null || typeof originator !== 'string' || originator === '') return row;
  let known = rederivedOriginators.get(db);
  if (known === undefined) {
    known = new Map();
    rederivedOriginators.set(db, known);
  }
  known.set(head.threadId, originator);
  return row;
}

/** A DB page with the originators re-deriving gave rows of a DB that cannot hold them. */
export function withRederivedOriginators<Page extends { items: ThreadMetadata[] }>(
  db: StateDb,
  page: Page,
): Page {
  const known = rederivedOriginators.get(db);
  if (known === undefined) return page;
  return {
    ...page,
    items: page.items.map((item) =>
      item.originator === null && known.has(item.id)
        ? { ...item, originator: known.get(item.id) as string }
        : item,
    ),
  };
}

/** What a re-derive left: the file it read (as `stat` saw it first) and the row, as JSON. */
interface Rederived {
  actual: string;
  signature: StatSignature;
  row: string;
}

/**
 * Whether re-deriving would write `storedMs` as the row's `updated_at_ms` again and leave the
 * allocators as they are: the file's mtime (in ms as `stat` gives it, which the extraction
 * uses) is the stored time and at least a second older than the high-water mark (§5.5 keeps
 * such a time), and no newer than recency's mark (which observes it).
 */
function allocatedUnchanged(db: StateDb, storedMs: number, signature: StatSignature): boolean {
  const mtimeMs = Math.trunc(
    Number(signature.mtimeNs / 1_000_000_000n) * 1000 +
      Number(signature.mtimeNs % 1_000_000_000n) / 1_000_000,
  );
  return (
    mtimeMs === storedMs &&
    mtimeMs + 1000 <= db.ctx.updatedClock.highWaterMark &&
    mtimeMs <= db.ctx.recencyClock.highWaterMark
  );
}

/** Kept re-derives per DB, by repair options and rollout path; bounded by the rows' bytes. */
const rederivedByDb = new WeakMap<StateDb, WeightedLru<Rederived>>();

function rowJson(row: ThreadMetadata): string | null {
  try {
    return JSON.stringify(row);
  } catch {
    return null;
  }
}

/**
 * Re-derives the rows of one listing, skipping a row whose rollout and row are both as a
 * re-derive left them and whose time a re-derive would allocate unchanged
 * (`allocatedUnchanged`). Only for Codex's list-time reconcile (`inheritPreview: false`): with
 * inheritance a row also depends on its base thread's row, which nothing here watches.
 */
export class Rederiver {
  readonly #db: StateDb;
  readonly #repair: RepairOptions;
  readonly #scope: string;
  readonly #kept: WeightedLru<Rederived>;

  constructor(db: StateDb, repair: RepairOptions & { inheritPreview: false }) {
    this.#db = db;
    this.#repair = repair;
    this.#scope = JSON.stringify([
      repair.codexHome,
      repair.archived,
      repair.defaultProvider,
      repair.keepRowGit,
    ]);
    let kept = rederivedByDb.get(db);
    if (kept === undefined) {
      kept = new WeightedLru<Rederived>(8 * 1024 * 1024, 4096);
      rederivedByDb.set(db, kept);
    }
    this.#kept = kept;
  }

  /**
   * Re-derives `row` (as the listing just read it) from its rollout unless neither changed
   * since a re-derive left them so; whether it ran.
   */
  async rederive(row: ThreadMetadata): Promise<boolean> {
    const path = row.rolloutPath;
    const kept = this.#kept;
    const key = `${this.#scope}\n${path}`;
    const readAtNs = wallClockNs();
    const before = statRollout(path);
    const known = kept.get(key);
    if (
      known !== undefined &&
      before !== null &&
      known.actual === before.actual &&
      sameSignature(known.signature, before.signature) &&
      known.row === rowJson(row) &&
      allocatedUnchanged(this.#db, row.updatedAtMs, before.signature)
    ) {
      return false;
    }
    const versionBefore = dataVersion(this.#db);
    const left = await rederive(this.#db, path, this.#repair);
    const json = left === null ? null : rowJson(left);
    // Kept only when no other connection committed meanwhile (the row read back is then the
    // one this re-derive wrote) and the file's times are settled (a later write shows in them).
    if (
      json !== null &&
      before !== null &&
      dataVersion(this.#db) === versionBefore &&
      vouchesForRead(before.signature, readAtNs)
    ) {
      kept.set(key, { ...before, row: json }, json.length * 2 + path.length * 4);
    } else {
      kept.delete(key);
    }
    return true;
  }
}
