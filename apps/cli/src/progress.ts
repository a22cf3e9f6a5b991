import cliProgress from 'cli-progress';
import { formatBytes } from './format.js';
import type { Output } from './output.js';

/** Progress of a long run (backfill, reindex): files done of total, bytes read. */
export interface ProgressReporter {
  start(totalFiles: number, totalBytes: number): void;
  update(doneFiles: number, doneBytes: number): void;
  stop(): void;
}

const QUIET: ProgressReporter = { start() {}, update() {}, stop() {} };

/**
 * A progress bar on stderr (counts, MB/s, ETA) when stderr is a terminal and the output is
 * for people; silent otherwise, so pipes and `--json` stay clean.
 */
export function createProgress(out: Output, label: string): ProgressReporter {
  if (out.json || !out.stderrIsTty) return QUIET;
  const started = Date.now();
  let totalBytes = 0;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {value}/{total} files | {rate} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const rate = (bytes: number): string => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    return `${formatBytes(bytes / seconds)}/s`;
  };
  return {
    start(totalFiles, bytes) {
      totalBytes = bytes;
      bar.start(totalFiles, 0, { rate: rate(0) });
    },
    update(doneFiles, doneBytes) {
      bar.update(doneFiles, { rate: rate(Math.min(doneBytes, totalBytes || doneBytes)) });
    },
    stop() {
      bar.stop();
    },
  };
}
