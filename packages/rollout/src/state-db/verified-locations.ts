import { dbChangeStamp, type StateDb } from '@skein/state';

/*
 * The files a default listing found their DB rows pointing at, remembered while no row of the
 * DB changes. Scan-and-repair looks up the rows of every file it scans (a page of 25 scans 50)
 * to repair the ones that point elsewhere; a client refreshing its first page scans the same
 * files again, and the lookup can only find what it found before unless a row changed in
 * between, which moves the DB's change stamp (see `dbChangeStamp`). So a listing looks up only
 * the files not vouched for; any change to the DB, Skein's own writes and repairs included,
 * forgets them all.
 */

/** Files vouched for per collection of one home (more are forgotten, not evicted). */
const MAX_VOUCHED = 4096;

interface Vouched {
  /** The DB's change stamp when these were found; null: nothing is vouched for. */
  stamp: string | null;
  /** Thread id → the rollout path its row was found pointing at. */
  pathById: Map<string, string>;
}

const vouchedByDb = new WeakMap<StateDb, Map<string, Vouched>>();

/** A scanned file: its thread id (from its head) and where it lies. */
interface ScannedFile {
  threadId: string;
  path: string;
}

/**
 * One listing's use of what earlier listings of the same collection found: `vouchesFor` says
 * which scanned files need no lookup, `found` notes a file whose row was seen pointing at it,
 * and `finish` keeps those under the stamp the DB had at `begin`. A change after `begin` (a
 * repair of this listing's own included) moves the stamp away from the one kept, so the next
 * listing starts over; listings of two states of the DB finishing in between keep nothing.
 */
export class LocationCheck {
  readonly #entry: Vouched;
  readonly #stampAtStart: string;
  /** The scanned files vouched for when the check began (their ids). */
  readonly #vouched = new Set<string>();
  /** Ids met more than once in the scan: each is looked up and repaired as usual. */
  readonly #repeated = new Set<string>();
  readonly #found: ScannedFile[] = [];

  private constructor(entry: Vouched, stamp: string, files: readonly ScannedFile[]) {
    this.#entry = entry;
    this.#stampAtStart = stamp;
    const seen = new Set<string>();
    for (const file of files) {
      if (seen.has(file.threadId)) this.#repeated.add(file.threadId);
      seen.add(file.threadId);
    }
    if (entry.stamp === null) return;
    for (const file of files) {
      if (!this.#repeated.has(file.threadId) && entry.pathById.get(file.threadId) === file.path) {
        this.#vouched.add(file.threadId);
      }
    }
  }

  /** Starts a check of `files`, scanned from the collection `collection` names. */
  static begin(db: StateDb, collection: string, files: readonly ScannedFile[]): LocationCheck {
    let byCollection = vouchedByDb.get(db);
    if (byCollection === undefined) {
      byCollection = new Map();
      vouchedByDb.set(db, byCollection);
    }
    let entry = byCollection.get(collection);
    if (entry === undefined) {
      entry = { stamp: null, pathById: new Map() };
      byCollection.set(collection, entry);
    }
    const stamp = dbChangeStamp(db);
    if (entry.stamp !== stamp) {
      entry.stamp = null;
      entry.pathById.clear();
    }
    return new LocationCheck(entry, stamp, files);
  }

  /** Whether the file's row was found pointing at it while the DB stood as it stands now. */
  vouchesFor(file: ScannedFile): boolean {
    return this.#vouched.has(file.threadId);
  }

  /** The file's row was looked up and points at it. */
  found(file: ScannedFile): void {
    if (!this.#repeated.has(file.threadId)) this.#found.push(file);
  }

  /** Keeps what this listing found, under the stamp the DB had when it began. */
  finish(): void {
    const entry = this.#entry;
    if (entry.stamp !== null && entry.stamp !== this.#stampAtStart) {
      // Another listing kept what it found in another state of the DB: neither is kept.
      entry.stamp = null;
      entry.pathById.clear();
      return;
    }
    if (entry.pathById.size + this.#found.length > MAX_VOUCHED) entry.pathById.clear();
    for (const file of this.#found) entry.pathById.set(file.threadId, file.path);
    entry.stamp = this.#stampAtStart;
  }
}
