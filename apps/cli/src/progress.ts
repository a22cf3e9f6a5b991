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
      format: `${label} {bar} {value}/{total} files | {rate} | ETA {remaining}`,
      stream: out.stderr,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const seconds = () => Math.max(0.001, (Date.now() - started) / 1000);
  const rate = (bytes: number): string => `${formatBytes(bytes / seconds())}/s`;
  // From bytes, not files: rollouts differ in size by orders of magnitude.
  const eta = (bytes: number): string => {
    if (bytes <= 0 || totalBytes <= 0) return '…';
    const left = ((totalBytes - bytes) * seconds()) / bytes;
    return left < 60 ? `${Math.ceil(left)}s` : `${Math.floor(left / 60)}m${Math.ceil(left % 60)}s`;
  };
  return {
    start(totalFiles, bytes) {
      totalBytes = bytes;
      bar.start(totalFiles, 0, { rate: rate(0), remaining: eta(0) });
    },
    update(doneFiles, doneBytes) {
      const bytes = Math.min(doneBytes, totalBytes || doneBytes);
      bar.update(doneFiles, { rate: rate(bytes), remaining: eta(bytes) });
    },
    stop() {
      bar.stop();
    },
  };
}
