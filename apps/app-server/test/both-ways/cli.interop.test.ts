/**
 * The walk-through as a new user would do it, with the built `skein` CLI as a real
 * process beside the real Codex 0.169.0 on a copy of a home 0.169 wrote and still uses:
 * `skein rename`, `skein archive` / `unarchive`, `skein delete` on paginated and legacy threads
 * → Codex lists and reads them with turns, unarchives and resumes them; Codex renames and
 * archives → `skein list` / `skein show` answer it; `skein doctor` finds nothing on a home only
 * Codex and Skein's own commands touched.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CASTS } from './support/cast.js';
import { expectHealthyHome, onHome, refusal, using } from './support/checks.js';
import type { HistoryMode, HomeKind, TestHome } from './support/homes.js';
import { Peer, type WireTurn } from './support/peers.js';

const SKEIN_CLI = join(import.meta.dirname, '..', '..', '..', 'cli', 'dist', 'main.js');
const run = promisify(execFile);

/** Runs `skein` on the home; stdout, also when it exits non-zero (doctor exits 5 on problems). */
async function skeinCli(home: TestHome, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [SKEIN_CLI, ...args], {
      env: { ...process.env, CODEX_HOME: home.home },
      cwd: home.home,
      timeout: 30_000,
    });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; code?: number };
    if (args[0] === 'doctor' && typeof failed.stdout === 'string') return failed.stdout;
    throw error;
  }
}

function ids(turns: readonly WireTurn[]): string[] {
  return turns.map((turn) => turn.id);
}

const CASES: [HomeKind, HistoryMode][] = [
  ['recorded-0.169', 'paginated'],
  ['recorded-0.169', 'legacy'],
  ['fixture-0.169', 'paginated'],
  ['recorded-0.131', 'legacy'],
];

describe('skein CLI, then the real Codex 0.169', () => {
  it.each(CASES)('%s, %s: rename, archive, unarchive, delete, doctor', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const plain = CASTS[kind].plain[mode];
      const tree = CASTS[kind].tree[mode] ?? CASTS[kind].tree.paginated;
      if (plain === undefined) throw new Error('no threads');
      const renamed = home.thread(plain[0]);
      const archived = home.thread(plain[1]);
      await skeinCli(home, ['rename', renamed.id, 'Renamed with skein ✓']);
      await skeinCli(home, ['archive', archived.id]);
      if (tree !== undefined) await skeinCli(home, ['delete', '--yes', home.thread(tree.root).id]);
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        const listed = (await codex.list()).threads.find((t) => t.id === renamed.id);
        expect.soft(listed?.name, 'codex lists the name skein set').toBe('Renamed with skein ✓');
        const read = await codex.attempt<{ thread: { turns: WireTurn[] } }>('thread/read', {
          threadId: archived.id,
          includeTurns: true,
        });
        expect
          .soft(read.ok ? ids(read.value.thread.turns) : read.error, 'codex reads the archived')
          .toEqual(archived.turnIds);
        const unarchived = await codex.attempt('thread/unarchive', { threadId: archived.id });
        expect.soft(refusal(unarchived), 'codex unarchives it').toBe('(accepted)');
        const resumed = await codex.attempt('thread/resume', {
          threadId: archived.id,
          excludeTurns: true,
        });
        expect.soft(refusal(resumed), 'codex resumes it').toBe('(accepted)');
        if (tree !== undefined) {
          const gone = await codex.attempt('thread/read', { threadId: home.thread(tree.root).id });
          expect.soft(gone.ok, 'codex no longer reads the deleted tree').toBe(false);
        }
        expectHealthyHome(home, '0.169.0', [codex]);
      });
      const doctor = JSON.parse(await skeinCli(home, ['doctor', '--json'])) as {
        findings: { kind: string; severity: string; subject: string; message: string }[];
      };
      expect.soft(doctor.findings, 'skein doctor after skein and codex').toEqual([]);
    });
  });
});

describe('the real Codex 0.169, then the skein CLI', () => {
  it.each(CASES)('%s, %s: rename, archive → skein list and show', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const plain = CASTS[kind].plain[mode];
      if (plain === undefined) throw new Error('no threads');
      const renamed = home.thread(plain[0]);
      const archived = home.thread(plain[1]);
      // skein has built its index before Codex changes anything.
      await skeinCli(home, ['list', '--json', '--provider', 'any', '--source', 'any', '--all']);
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        await codex.request('thread/name/set', { threadId: renamed.id, name: 'Renamed by Codex' });
        await codex.request('thread/archive', { threadId: archived.id });
      });
      const list = JSON.parse(
        await skeinCli(home, ['list', '--json', '--provider', 'any', '--source', 'any', '--all']),
      ) as { id: string; name: string | null }[];
      expect.soft(list.find((t) => t.id === renamed.id)?.name).toBe('Renamed by Codex');
      expect
        .soft(
          list.some((t) => t.id === archived.id),
          'archived leaves the list',
        )
        .toBe(false);
      const shown = JSON.parse(await skeinCli(home, ['show', '--json', archived.id])) as {
        archived: boolean;
      };
      expect.soft(shown.archived).toBe(true);
    });
  });
});
