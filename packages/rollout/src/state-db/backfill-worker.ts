import { parentPort } from 'node:worker_threads';
import { type ExtractJob, type ExtractOutcome, extractBackfillEntry } from './extract.js';
import { CwdNormalizer } from './files.js';

/** Worker-thread side of the backfill: extracts metadata for chunks of files it is sent. */
export interface WorkerRequest {
  chunk: number;
  jobs: ExtractJob[];
  defaultProvider: string;
}
export interface WorkerResponse {
  chunk: number;
  outcomes: ExtractOutcome[];
}

const cwds = new CwdNormalizer();
parentPort?.on('message', (request: WorkerRequest) => {
  const outcomes = request.jobs.map((job) =>
    extractBackfillEntry(job, request.defaultProvider, cwds),
  );
  parentPort?.postMessage({ chunk: request.chunk, outcomes } satisfies WorkerResponse);
});
