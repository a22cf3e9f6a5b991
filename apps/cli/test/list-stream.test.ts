/**
 * `skein list` on a home with 10,000 threads: rows stream out as store pages arrive, a reader
 * that goes away stops the listing at once (in-process, and `skein list --all | head -1` as
 * real processes), the default filters say what they hide, and `--limit` out of range is an
 * error.
 */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { type BigHome, writeBigHome } from './big-home.js';
import { CLI, skein } from './helpers.js';

const THREADS = 10_000;
let home: string;
let big: BigHome;

beforeAll(async () => {
  home = makeTempDir('skein-big-home-');
  big = writeBigHome(home, THREADS);
  // Index once, so each measured run below lists from the index.
  const indexed = await skein(['backfill'], { home });
  expect(indexed.code, indexed.stderr).toBe(0);
}, 300_000);

afterAll(() => removeTempDir(home));

/** A reader that takes `limit` bytes, then goes away (as `head` does). */
class ClosingReader extends Writable {
  received = 0;
  writesAfterClose = 0;
  readonly #limit: number;
  constructor(limit: number) {
    super();
    this.#limit = limit;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    if (this.destroyed) this.writesAfterClose += 1;
    this.received += chunk.length;
    done();
    if (this.received >= this.#limit) this.destroy();
  }
}

describe('skein list on 10,000 threads', () => {
  it('prints every row with --all (table and JSON) and says how many the defaults hide', async () => {
    const shown = THREADS - big.hidden;
    const table = await skein(['list', '--all'], { home });
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(shown + 1); // the header
    expect(rows[0]).toMatch(/name \/ preview\s+cwd\s+updated\s+id/);
    expect(rows[1]).toContain(`Task ${THREADS - 1}: fix bug`); // newest first
    // Columns line up: every row puts the id at the same column.
    const idColumn = rows[1]!.indexOf('01a20154-');
    expect(rows.slice(1).every((row) => row.indexOf('01a20154-') === idColumn)).toBe(true);
    expect(table.stderr).toContain(`${shown.toLocaleString('en-US')} threads`);
    expect(table.stderr).toContain(
      `${big.hidden.toLocaleString('en-US')} more threads hidden by the --source/--provider (openai) defaults; --source any --provider any lists them.`,
    );

    const json = await skein(['list', '--all', '--json'], { home });
    const parsed = JSON.parse(json.stdout) as { id: string }[];
    expect(parsed).toHaveLength(shown);
    expect(new Set(parsed.map((t) => t.id)).size).toBe(shown);
    expect(json.stderr).toContain(`${big.hidden.toLocaleString('en-US')} more threads hidden`);

    const everything = await skein(['list', '--all', '--source', 'any', '--provider', 'any'], {
      home,
    });
    expect(everything.stdout.trimEnd().split('\n')).toHaveLength(THREADS + 1);
    expect(everything.stderr).not.toContain('hidden');
  });

  it('stops at once when the reader goes away (in-process)', async () => {
    const full = new ClosingReader(Number.POSITIVE_INFINITY);
    const fullCode = await runCli({
      argv: ['--codex-home', home, 'list', '--all'],
      env: { ...process.env, NO_COLOR: '1' },
      stdout: full,
      stderr: new ClosingReader(Number.POSITIVE_INFINITY),
    });
    expect(fullCode).toBe(0);

    const head = new ClosingReader(100); // gone after the first chunk
    const code = await runCli({
      argv: ['--codex-home', home, 'list', '--all'],
      env: { ...process.env, NO_COLOR: '1' },
      stdout: head,
      stderr: new ClosingReader(Number.POSITIVE_INFINITY),
    });
    expect(code).toBe(0);
    expect(head.writesAfterClose).toBe(0);
    // One store page (100 rows) was written, not 8,000. (How long each takes is a benchmark
    // figure: apps/cli/bench/cli.bench.mjs.)
    expect(head.received).toBeLessThan(full.received / 20);
  });

  it('`skein list --all | head -1` ends quietly and successfully when head does', () => {
    const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = `${quoted(process.execPath)} ${quoted(CLI)} --codex-home ${quoted(home)} list --all`;
    // pipefail: the pipeline's status is skein's, so a crash on the closed pipe (EPIPE, a
    // SIGPIPE death) fails here.
    const run = spawnSync('bash', ['-o', 'pipefail', '-c', `${command} | head -1`], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/name \/ preview/);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toBe('');
  });

  it('refuses a --limit out of range instead of clamping it', async () => {
    for (const limit of ['0', '101', '-3', '2.5', 'ten']) {
      const result = await skein(['list', '--limit', limit], { home });
      expect(result.code, limit).toBe(2);
      expect(result.stderr).toContain('expected a whole number from 1 to 100');
      expect(result.stdout).toBe('');
    }
    const page = await skein(['list', '--limit', '100', '--json'], { home });
    expect((JSON.parse(page.stdout) as unknown[]).length).toBe(100);
    const search = await skein(['search', 'bug', '--limit', '0'], { home });
    expect(search.code).toBe(2);
    expect(search.stderr).toContain('expected a whole number from 1 to 10,000');
  });
});
