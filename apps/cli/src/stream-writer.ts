import type { OutStream } from './io.js';

/**
 * Writes a long output in chunks as it is produced, waiting when the reader is slow
 * (backpressure) and noticing when it went away (`skein list --all | head -1`): then `write`
 * returns false and nothing more is written, so the command can stop at once.
 */
export class StreamWriter {
  readonly #stream: OutStream & { destroyed?: boolean; writableEnded?: boolean };
  #closed = false;

  constructor(stream: OutStream) {
    this.#stream = stream;
    const gone = () => {
      this.#closed = true;
    };
    // An EPIPE from a closed pipe arrives as an 'error' event; without a listener it would
    // be thrown. (The process entry point exits quietly on it too.)
    stream.once('error', gone);
    stream.once('close', gone);
  }

  /** Whether the reader has gone away. */
  get closed(): boolean {
    return this.#closed || this.#stream.destroyed === true || this.#stream.writableEnded === true;
  }

  /** Writes `text`; false once the reader is gone. */
  async write(text: string): Promise<boolean> {
    if (this.closed) return false;
    if (text === '') return true;
    if (!this.#stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#stream.off('drain', done);
          this.#stream.off('close', done);
          this.#stream.off('error', done);
          resolve();
        };
        this.#stream.on('drain', done);
        this.#stream.on('close', done);
        this.#stream.on('error', done);
      });
    }
    // Let a pending 'error' (EPIPE) arrive before the caller fetches more rows.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return !this.closed;
  }
}
