/**
 * Links under `sessions/` that lead out of the home — a linked rollout, a linked day folder, a
 * rollout-named link to some other file — and a home copied with `cp -a`. The policy: nothing
 * is ever read or written outside the home a command was given. `show`, `export`, `rename`,
 * `archive` and `delete` (CLI), and `thread/read`, `thread/resume`, `thread/name/set`,
 * `thread/delete` (app-server) refuse such a thread with a clear reason, and the files outside
 * are left exactly as they were.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type FixtureName,
  JsonRpcChild,
  makeTempDir,
  recordFigures,
  removeTempDir,
  rolloutFilesOnDisk,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, skein, snapshotFiles, thread } from './helpers.js';

const APP_SERVER = join(import.meta.dirname, '..', '..', 'app-server', 'dist', 'main.js');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

type Outcome = { code: number | null; out: string };

/** Runs the CLI attacks on `id`; returns each command's exit code and what it printed. */
async function cliAttacks(
  home: string,
  id: string,
  bundleDir: string,
): Promise<Record<string, Outcome>> {
  const outcomes: Record<string, Outcome> = {};
  const run = async (label: string, args: string[]) => {
    const result = await skein(args, { home });
    outcomes[label] = { code: result.code, out: `${result.stdout}\n${result.stderr}` };
  };
  await run('show', ['show', id]);
  await run('show --json', ['show', id, '--json']);
  await run('export', ['export', id, '-o', join(bundleDir, `${id}.json`)]);
  await run('rename', ['rename', id, 'renamed through a link']);
  await run('archive', ['archive', id]);
  await run('delete', ['delete', id, '--yes']);
  return outcomes;
}

/** The same through a fresh app-server. */
async function wireAttacks(home: string, id: string): Promise<Record<string, Outcome>> {
  const server = new JsonRpcChild(process.execPath, [APP_SERVER], {
    env: { ...process.env, CODEX_HOME: home },
    cwd: home,
  });
  await server.initialize();
  const outcomes: Record<string, Outcome> = {};
  const calls: [string, string, Record<string, unknown>][] = [
    ['thread/read', 'thread/read', { threadId: id, includeTurns: true }],
    ['thread/resume', 'thread/resume', { threadId: id }],
    [
      'thread/inject_items',
      'thread/inject_items',
      {
        threadId: id,
        items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }],
      },
    ],
    ['thread/name/set', 'thread/name/set', { threadId: id, name: 'renamed over the wire' }],
    ['thread/delete', 'thread/delete', { threadId: id }],
  ];
  for (const [label, method, params] of calls) {
    const answer = await server.answer(server.send(method, params));
    outcomes[label] = {
      code: answer.error?.code ?? 0,
      out: answer.error?.message ?? JSON.stringify(answer.result).slice(0, 200),
    };
  }
  await server.stop();
  return outcomes;
}

const REFUSED = /outside the home/;
/** A command that needs a loaded thread fails once loading it was refused. */
const NEEDS_LOAD = new Set(['thread/inject_items']);
const fixtures: FixtureName[] = ['codex-0.131', 'codex-0.169'];

function isRefused(command: string, outcome: Outcome): boolean {
  return outcome.code !== 0 && (REFUSED.test(outcome.out) || NEEDS_LOAD.has(command));
}

describe('links leaving the home', () => {
  for (const name of fixtures) {
    it(`${name}: a linked rollout and a linked day folder are refused by every command; nothing outside changes`, async () => {
      const started = Date.now();
      const results: Record<string, Record<string, Outcome>> = {};
      let outsideChanged = 0;
      let leaked = 0;
      for (const variant of [
        'linked rollout',
        'linked day folder',
        'link to another file',
      ] as const) {
        const { home, manifest } = fixture(name);
        const outside = makeTempDir('skein-rel-outside-');
        const bundles = makeTempDir('skein-rel-bundles-');
        dirs.push(home, outside, bundles);
        let id = thread(manifest, 'plain').id;
        const file = rolloutFilesOnDisk(home, id).active[0]!;
        if (variant === 'linked rollout') {
          renameSync(file, join(outside, basename(file)));
          symlinkSync(join(outside, basename(file)), file);
        } else if (variant === 'linked day folder') {
          const day = dirname(file);
          cpSync(day, join(outside, 'day'), { recursive: true, preserveTimestamps: true });
          removeTempDir(day);
          symlinkSync(join(outside, 'day'), day);
        } else {
          // A rollout-named link to a file that is no rollout at all (say, /etc/passwd).
          writeFileSync(join(outside, 'secret.txt'), 'root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n');
          id = randomUUID();
          const link = join(dirname(file), `rollout-2026-11-22T03-59-59-${id}.jsonl`);
          symlinkSync(join(outside, 'secret.txt'), link);
        }
        const before = snapshotFiles(outside);
        const cli = await cliAttacks(home, id, bundles);
        const wire = await wireAttacks(home, id);
        const after = snapshotFiles(outside);
        if (
          after.size !== before.size ||
          [...before].some(([rel, hash]) => after.get(rel) !== hash)
        )
          outsideChanged += 1;
        for (const outcome of [...Object.values(cli), ...Object.values(wire)]) {
          if (outcome.out.includes('SECRET-CONTENT')) leaked += 1;
        }
        if (existsSync(join(bundles, `${id}.json`))) leaked += 1;
        results[`${variant} (cli)`] = cli;
        results[`${variant} (wire)`] = wire;
      }
      const attempts = Object.values(results).flatMap((r) => Object.values(r));
      const refused = Object.values(results)
        .flatMap((r) => Object.entries(r))
        .filter(([command, o]) => isRefused(command, o)).length;
      recordFigures(
        `link attacks (${name}): linked rollout, linked day folder, link to another file`,
        { attempts: attempts.length, refused, 'outside changed': outsideChanged, leaked },
        started,
      );
      expect(outsideChanged).toBe(0);
      expect(leaked).toBe(0);
      const notRefused = Object.entries(results).flatMap(([label, outcomes]) =>
        Object.entries(outcomes)
          .filter(([command, outcome]) => !isRefused(command, outcome))
          .map(
            ([command, outcome]) =>
              `${label} ${command}: ${outcome.code} ${outcome.out.trim().slice(0, 160)}`,
          ),
      );
      expect(notRefused).toEqual([]);
    });
  }

  /** Ids `skein list` offers, on the files-first path (default filters) and the DB alone. */
  async function listedIds(home: string): Promise<string[][]> {
    const out: string[][] = [];
    for (const extra of [[], ['--source', 'any', '--provider', 'any']]) {
      const listed = await skein(['list', '--all', ...extra, '--json'], { home });
      expect(listed.code).toBe(0);
      out.push((JSON.parse(listed.stdout) as { id: string }[]).map((t) => t.id));
    }
    return out;
  }

  it('list does not offer a thread whose rollout leads out of the home', async () => {
    const { home, manifest } = fixture('codex-0.131');
    const outside = makeTempDir('skein-rel-outside-');
    dirs.push(home, outside);
    const id = thread(manifest, 'plain').id;
    const kept = thread(manifest, 'recent').id;
    const file = rolloutFilesOnDisk(home, id).active[0]!;
    renameSync(file, join(outside, basename(file)));
    symlinkSync(join(outside, basename(file)), file);
    for (const ids of await listedIds(home)) {
      expect(ids).not.toContain(id);
      expect(ids).toContain(kept);
    }
  });

  it('list does not offer the threads of a day folder linked out of the home', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const outside = makeTempDir('skein-rel-outside-day-');
    dirs.push(home, outside);
    const id = thread(manifest, 'plain').id;
    const day = dirname(rolloutFilesOnDisk(home, id).active[0]!);
    renameSync(day, join(outside, 'day'));
    symlinkSync(join(outside, 'day'), day);
    for (const ids of await listedIds(home)) expect(ids).not.toContain(id);
  });

  it('a copied home (cp -a) never reads or writes the original', async () => {
    const started = Date.now();
    const { home, manifest } = fixture('codex-0.169');
    const copyRoot = makeTempDir('skein-rel-copy-');
    dirs.push(home, copyRoot);
    const copy = join(copyRoot, 'home');
    cpSync(home, copy, { recursive: true, preserveTimestamps: true });
    const original = snapshotFiles(home);
    const deleted = thread(manifest, 'plain').id;
    const written = thread(manifest, 'recent').id;
    const outcomes: Record<string, number | null> = {};
    outcomes.delete = (await skein(['delete', deleted, '--yes'], { home: copy })).code;
    outcomes.rename = (
      await skein(['rename', written, 'renamed in the copy'], { home: copy })
    ).code;
    outcomes.archive = (
      await skein(['archive', thread(manifest, 'multiTurn').id], { home: copy })
    ).code;
    const server = new JsonRpcChild(process.execPath, [APP_SERVER], {
      env: { ...process.env, CODEX_HOME: copy },
      cwd: copy,
    });
    await server.initialize();
    await server.request('thread/resume', { threadId: written });
    await server.request('thread/inject_items', {
      threadId: written,
      items: [
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'written in the copy' }],
        },
      ],
    });
    await server.stop();
    const doctor = await skein(['doctor', '--json'], { home: copy });
    const now = snapshotFiles(home);
    const touched = [...original]
      .filter(([rel, hash]) => now.get(rel) !== hash)
      .map(([rel]) => rel);
    const copyFile = rolloutFilesOnDisk(copy, written).active[0]!;
    recordFigures(
      'copied home: writes stay in the copy',
      { operations: Object.keys(outcomes).length + 2, 'original files touched': touched.length },
      started,
    );
    expect(outcomes).toEqual({ delete: 0, rename: 0, archive: 0 });
    expect(touched).toEqual([]);
    expect(readFileSync(copyFile, 'utf8')).toContain('written in the copy');
    expect(rolloutFilesOnDisk(copy, deleted).active).toEqual([]);
    expect(rolloutFilesOnDisk(home, deleted).active).toHaveLength(1);
    // Doctor on the copy reads only the copy (rows still naming the original are flagged).
    expect(doctor.stdout).not.toContain(`"${home}/`);
  });
});
