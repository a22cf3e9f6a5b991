import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  abandonBackfill,
  type BackfillStatus,
  type BatchUpsertEntry,
  type BulkThreadImport,
  claimBackfill,
  currentLeaseOwner,
  type LeaseOwner,
  markBackfillComplete,
  readBackfillState,
  StateError,
  type StateRuntime,
} from '@skein/state';
import {
  inheritBasePreviews,
  projectPaginatedHistories,
  restoreIndexNames,
} from './after-import.js';
import type { WorkerRequest, WorkerResponse } from './backfill-worker.js';
import { type ExtractJob, type ExtractOutcome, extractBackfillEntry } from './extract.js';
import type { RolloutFileTable } from './file-table.js';
import { CwdNormalizer, collectRolloutFileTable } from './files.js';
import { PRESCAN_MIN_FILES, RolloutPrescanner } from './prescan.js';
import { hideUnreadableRollouts } from './unreadable.js';

/** Where an import stands: files and bytes done and in total. */
export interface BackfillProgress {
  filesDone: number;
  filesTotal: number;
  filesFailed: number;
  /** Bytes of the files done / of all files to import this run. */
  bytesDone: number;
  bytesTotal: number;
}

/**
 * How `runBackfill` imports: the home, default provider, lease duration, batch size, worker
 * threads, owner and a progress callback.
 */
export interface BackfillOptions {
  codexHome: string;
  defaultProvider?: string;
  /** Lease duration; heartbeated with every batch. A dead owner's lease is reclaimed at once. */
  leaseMs?: number;
  /** Files per transaction / checkpoint. */
  batchSize?: number;
  /**
   * Helper threads extracting alongside the calling thread (default 0; see the measurement
   * note in `runBackfill`). With helpers there is no reader thread (`prescan`).
   */
  workers?: number;
  /**
   * The reader thread (used when there are no helper threads): reads files and extracts their
   * rows a few batches ahead, so this thread only writes. Default: for imports of
   * `PRESCAN_MIN_FILES` files or more; false: never; true: always (where it can run);
   * `'only'` (tests): always, and this thread never takes a block the reader has not started
   * (by default it does, rather than wait), so every file the reader can read, it extracts.
   */
  prescan?: boolean | 'only';
  onProgress?: (progress: BackfillProgress) => void;
  /**
   * A first import into an empty `threads` table runs as one transaction with the table's
   * indexes built once at its end (see `BulkThreadImport` in @skein/state), for imports of
   * `minFiles` (default 1,000) to 30,000 files; when it has held the DB's write lock for
   * `lockBudgetMs` (default 1,500) it commits and the rest goes batch by batch. False: never.
   */
  bulkImport?: false | { minFiles?: number; lockBudgetMs?: number };
  /** Lease owner identity (tests); default: this process. */
  owner?: LeaseOwner;
}

/** A file the import could not read, and why. */
export interface BackfillFailure {
  path: string;
  error: string;
}

/**
 * What an import did: whether it ran (or who held it), files imported, failed and skipped, the
 * first failures, and how long it took.
 */
export interface BackfillOutcome {
  /** False when another process holds the backfill lease (or it was already complete). */
  ran: boolean;
  status: BackfillStatus;
  imported: number;
  failed: number;
  /** Files at or before the resume watermark, not read again. */
  skipped: number;
  /** The first failures (at most 50). */
  failures: BackfillFailure[];
  /** Files whose rows the reader thread built (the rest were extracted on this thread). */
  readerExtracted: number;
  /** Rows written by the bulk first import's one transaction (see `bulkImport`); 0 if none. */
  bulkImported: number;
  durationMs: number;
}

/** How long Skein's side of the import lease lasts without a heartbeat (2 min). */
export const DEFAULT_BACKFILL_LEASE_MS = 120_000;
/** Files upserted per transaction during an import. */
export const DEFAULT_BACKFILL_BATCH = 500;
const MAX_REPORTED_FAILURES = 50;
/** From this many files an import raises the page cache (the table is written, then read). */
const BIG_IMPORT_MIN_FILES = 500;
/** Page cache of a big first import (KiB; SQLite takes what it uses, up to this). */
const IMPORT_CACHE_KIB = 64 * 1024;
/**
 * Imports of more files than this write a table (~2 KiB a thread) the cache cannot hold
 * anyway; they get `HUGE_IMPORT_CACHE_KIB`. Measured at 100,000 files: 64 MiB and 16 MiB took
 * the same time, and so did 4 MiB (5.5-5.6 s against 5.9-6.4 s at 16 MiB, alternating runs),
 * with ~50 MB and then ~11 MiB less peak RSS.
 */
const HUGE_IMPORT_MIN_FILES = 30_000;
const HUGE_IMPORT_CACHE_KIB = 4 * 1024;
/** Below this many files a first import keeps the indexes in place (the gain is a few ms). */
const BULK_IMPORT_MIN_FILES = 1_000;
/**
 * The longest a bulk import holds Codex's DB's write lock before it commits what it has and
 * goes on batch by batch: other writers (Codex's busy timeout is 5 s, Skein's too) wait that
 * long at most, plus the index build (~15 ms per 1,000 rows).
 */
const BULK_IMPORT_LOCK_BUDGET_MS = 1_500;

/**
 * The one-time import of a home's rollouts into Codex's state DB (spec rollout-state §5.8),
 * run by whichever process — Skein or Codex — wins the backfill lease in Codex's
 * `backfill_state` row. Files are processed in watermark order (Codex's: home-relative paths)
 * in batches; each batch is one transaction that also heartbeats the row and moves the
 * watermark, so a run killed at any point resumes after the last committed batch — by Skein or
 * by Codex — and indexes every thread exactly once. A file that cannot be read is counted and
 * skipped. Rows are what Codex's own backfill writes; names stay in the session index.
 */
export async function runBackfill(
  runtime: StateRuntime,
  options: BackfillOptions,
): Promise<BackfillOutcome> {
  const started = Date.now();
  const notRun = async (): Promise<BackfillOutcome> => ({
    ran: false,
    status: (await readBackfillState(runtime)).status,
    imported: 0,
    failed: 0,
    skipped: 0,
    failures: [],
    readerExtracted: 0,
    bulkImported: 0,
    durationMs: Date.now() - started,
  });
  if (runtime.readOnlyReason !== null) return notRun();
  if ((await readBackfillState(runtime)).status === 'complete') return notRun();

  const owner = options.owner ?? currentLeaseOwner();
  const leaseMs = options.leaseMs ?? DEFAULT_BACKFILL_LEASE_MS;
  const claim = await claimBackfill(runtime, owner, leaseMs);
  if (!claim.claimed) return notRun();
  let released = false;
  /** The connection's page cache size before a big import raised it (restored after). */
  let cacheSize: number | null = null;
  let spawned: Worker[] = [];
  let prescanner: RolloutPrescanner | null = null;
  /** The open bulk import, while there is one (see `bulkImport`). */
  let bulk: BulkThreadImport | null = null;
  const release = async () => {
    if (!released) await abandonBackfill(runtime, owner.id).catch(() => undefined);
    released = true;
  };
  try {
    // Helpers start now, so their startup overlaps the directory walk below.
    spawned = startWorkers(options.workers ?? 0);
    if (spawned.length === 0 && options.prescan !== false) prescanner = RolloutPrescanner.start();
    const state = await readBackfillState(runtime);
    const watermark = state.lastWatermark;
    const table = collectRolloutFileTable(options.codexHome, options.onProgress !== undefined);
    // Sorted by watermark: the files still to import are the ones after it.
    const first = watermark === null ? 0 : table.firstAfter(watermark);
    const total = table.length - first;
    const skipped = first;
    // Codex's DB keeps explicit data no rollout holds (names, git updates, read receipts), so
    // its writes stay fully synchronous, and no state in which it lacks an index is ever
    // committed (a bulk import drops and rebuilds them inside its one transaction).
    if (total >= BIG_IMPORT_MIN_FILES) {
      // A page cache that holds the table while it is written (the default 2 MB re-reads it).
      cacheSize = Number(runtime.sqlite.pragma('cache_size', { simple: true }));
      const kib = total > HUGE_IMPORT_MIN_FILES ? HUGE_IMPORT_CACHE_KIB : IMPORT_CACHE_KIB;
      runtime.sqlite.pragma(`cache_size = -${kib}`);
    }
    const bulkMinFiles =
      options.bulkImport === false ? null : (options.bulkImport?.minFiles ?? BULK_IMPORT_MIN_FILES);
    const lockBudgetMs =
      options.bulkImport === false
        ? 0
        : (options.bulkImport?.lockBudgetMs ?? BULK_IMPORT_LOCK_BUDGET_MS);
    if (bulkMinFiles !== null && total >= bulkMinFiles && total <= HUGE_IMPORT_MIN_FILES) {
      bulk = runtime.beginBulkThreadImport();
    }
    const defaultProvider = options.defaultProvider ?? runtime.defaultProvider;
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BACKFILL_BATCH);
    const chunks: FileRange[] = [];
    for (let start = first; start < table.length; start += batchSize) {
      chunks.push({ start, end: Math.min(table.length, start + batchSize) });
    }

    const progress: BackfillProgress = {
      filesDone: 0,
      filesTotal: total,
      filesFailed: 0,
      bytesDone: 0,
      bytesTotal: table.bytesBetween(first, table.length),
    };
    options.onProgress?.({ ...progress });
    const failures: BackfillFailure[] = [];
    const inherits: { id: string; baseId: string }[] = [];
    const paginated: { id: string; path: string }[] = [];
    /** Every file that failed (rows of unreadable ones are hidden from lists at the end). */
    const failedPaths: string[] = [];
    let imported = 0;
    let readerExtracted = 0;
    let bulkImported = 0;
    /** Counts of batches inside the open bulk import: recorded once it has committed. */
    const unrecorded = { done: 0, failed: 0 };
    /** Commits the bulk import and records its counts in Skein's progress row. */
    const finishBulk = (heartbeatSeconds: number) => {
      if (bulk === null) return;
      bulk.finish();
      bulk = null;
      bulkImported = unrecorded.done;
      runtime.recordBackfillBatch(owner.id, unrecorded, heartbeatSeconds, leaseMs);
    };

    const commit = (chunk: FileRange, outcomes: ExtractOutcome[]) => {
      const entries: BatchUpsertEntry[] = [];
      let failed = 0;
      for (const outcome of outcomes) {
        if (!outcome.ok) {
          failed += 1;
          failedPaths.push(outcome.path);
          if (failures.length < MAX_REPORTED_FAILURES)
            failures.push({ path: outcome.path, error: outcome.error });
          continue;
        }
        entries.push(outcome.entry);
        if (outcome.entry.metadata.historyMode === 'paginated') {
          paginated.push({
            id: outcome.entry.metadata.id,
            path: outcome.entry.metadata.rolloutPath,
          });
        }
        if (outcome.inheritsPreviewFrom) {
          inherits.push({ id: outcome.entry.metadata.id, baseId: outcome.inheritsPreviewFrom });
        }
      }
      const heartbeatSeconds = Math.floor(Date.now() / 1000);
      runtime.upsertThreadsBatch(entries, {
        checkpoint: {
          watermark: table.watermark(chunk.end - 1),
          updatedAtSeconds: heartbeatSeconds,
        },
      });
      // Skein's progress row may live in another file, committed on its own: a bulk import's
      // counts wait for the import's commit (the row is still heartbeated), so a killed one
      // counts nothing twice.
      const counts = { done: entries.length, failed };
      if (bulk !== null) {
        unrecorded.done += counts.done;
        unrecorded.failed += counts.failed;
      }
      runtime.recordBackfillBatch(
        owner.id,
        bulk === null ? counts : { done: 0, failed: 0 },
        heartbeatSeconds,
        leaseMs,
      );
      if (bulk !== null && bulk.heldMs() >= lockBudgetMs) finishBulk(heartbeatSeconds);
      imported += entries.length;
      progress.filesDone += chunk.end - chunk.start;
      progress.filesFailed += failed;
      progress.bytesDone += table.bytesBetween(chunk.start, chunk.end);
      options.onProgress?.({ ...progress });
    };

    // Helpers are opt-in. Measured at 10k files on the shared 2-core bench machine: one helper
    // costs ~+0.6 s CPU (its own JIT warm-up, cloning results) and ~+27 MB RSS; at load ~2.5
    // wall time was a wash (1.34-1.48 s vs 1.33-1.68 s), and under heavy load it was slower.
    // The reader thread (the default without helpers) splits the work instead of duplicating
    // it: it reads and extracts, this thread writes SQLite and takes the blocks the reader has
    // not reached (see prescan.ts); its rows come back as flat values, not cloned objects.
    const workers = spawned.slice(0, Math.max(0, chunks.length - 1));
    if (workers.length > 0) {
      await extractWithWorkers(workers, table, chunks, defaultProvider, commit);
    } else {
      const always = options.prescan === true || options.prescan === 'only';
      const cwds = new CwdNormalizer();
      if (prescanner !== null && (always || total >= PRESCAN_MIN_FILES)) {
        prescanner.scan(table, first, defaultProvider, options.prescan !== 'only', (index) =>
          extractBackfillEntry(jobAt(table, first + index), defaultProvider, cwds),
        );
      } else {
        await prescanner?.close();
        prescanner = null;
      }
      for (const chunk of chunks) {
        const outcomes: ExtractOutcome[] = [];
        for (let index = chunk.start; index < chunk.end; index += 1) {
          const ready = prescanner === null ? null : await prescanner.get(index - first);
          outcomes.push(ready ?? extractBackfillEntry(jobAt(table, index), defaultProvider, cwds));
        }
        commit(chunk, outcomes);
        // Let timers and I/O (a progress bar, signals) run between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      readerExtracted = prescanner?.readerExtracted ?? 0;
    }

    finishBulk(Math.floor(Date.now() / 1000));
    if (cacheSize !== null) {
      runtime.sqlite.pragma(`cache_size = ${cacheSize}`);
      cacheSize = null;
    }
    await inheritBasePreviews(runtime, inherits);
    await projectPaginatedHistories(runtime, paginated);
    await hideUnreadableRollouts(runtime, failedPaths);
    if (runtime.recoveredBackupDir !== null) await restoreIndexNames(runtime, options.codexHome);
    const lastWatermark = total > 0 ? table.watermark(table.length - 1) : watermark;
    await markBackfillComplete(runtime, owner.id, lastWatermark);
    released = true;
    return {
      ran: true,
      status: 'complete',
      imported,
      failed: progress.filesFailed,
      skipped,
      failures,
      readerExtracted,
      bulkImported,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    // First: what follows writes through the same connection, outside the failed import.
    (bulk as BulkThreadImport | null)?.abort();
    if (error instanceof StateError && error.code === 'LeaseLost') {
      released = true; // someone else owns Codex's row now; leave it alone
      return { ...(await notRun()), ran: true };
    }
    await release();
    throw error;
  } finally {
    if (cacheSize !== null) runtime.sqlite.pragma(`cache_size = ${cacheSize}`);
    await Promise.all([...spawned.map((worker) => worker.terminate()), prescanner?.close()]);
  }
}

/** Files `[start, end)` of the table: one batch (one transaction). */
interface FileRange {
  start: number;
  end: number;
}

function jobAt(table: RolloutFileTable, index: number): ExtractJob {
  return table.file(index);
}

/**
 * Extraction on helper threads *and* this thread, commits on this thread in chunk order (the
 * watermark only moves forward). Helpers are fed one chunk ahead so they never idle; this
 * thread extracts the next unassigned chunk between commits, so on two cores one helper keeps
 * both busy without a second isolate's memory.
 */
function startWorkers(count: number): Worker[] {
  const url = new URL('./backfill-worker.js', import.meta.url);
  if (count <= 0 || !existsSync(fileURLToPath(url))) return [];
  // Small heap limits: a helper only holds one chunk of metadata at a time.
  return Array.from({ length: count }, () => {
    const worker = new Worker(url, {
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
    });
    // Kept until extraction starts listening (a startup failure must not go unheard).
    worker.once('error', (error) => startupErrors.set(worker, error));
    return worker;
  });
}

const startupErrors = new WeakMap<Worker, unknown>();

function jobsOf(table: RolloutFileTable, chunk: FileRange): ExtractJob[] {
  const jobs: ExtractJob[] = [];
  for (let index = chunk.start; index < chunk.end; index += 1) jobs.push(jobAt(table, index));
  return jobs;
}

async function extractWithWorkers(
  workers: readonly Worker[],
  table: RolloutFileTable,
  chunks: readonly FileRange[],
  defaultProvider: string,
  commit: (chunk: FileRange, outcomes: ExtractOutcome[]) => void,
): Promise<void> {
  const results = new Map<number, ExtractOutcome[]>();
  const cwds = new CwdNormalizer();
  let assigned = 0;
  let committed = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const assign = (worker: Worker) => {
    if (assigned >= chunks.length) return;
    const index = assigned++;
    const jobs = jobsOf(table, chunks[index]!);
    worker.postMessage({ chunk: index, jobs, defaultProvider } satisfies WorkerRequest);
  };
  for (const worker of workers) {
    if (startupErrors.has(worker)) failure ??= startupErrors.get(worker);
    worker.on('message', (response: WorkerResponse) => {
      results.set(response.chunk, response.outcomes);
      assign(worker);
      wake?.();
    });
    worker.on('error', (error) => {
      failure ??= error;
      wake?.();
    });
    assign(worker);
    assign(worker);
  }
  try {
    // Bounded: every pass commits or extracts a chunk, or waits for a helper's result.
    while (committed < chunks.length) {
      if (failure) throw failure;
      for (let ready = results.get(committed); ready; ready = results.get(committed)) {
        results.delete(committed);
        commit(chunks[committed]!, ready);
        committed += 1;
      }
      if (committed >= chunks.length) break;
      if (assigned < chunks.length) {
        const index = assigned++;
        results.set(
          index,
          jobsOf(table, chunks[index]!).map((job) =>
            extractBackfillEntry(job, defaultProvider, cwds),
          ),
        );
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else if (!results.has(committed)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
