/**
 * Bundles crafted against `skein import`: the bundle's entry says one thing and the rollout
 * inside says another. Each must be refused (exit 4) with a clear reason and nothing written
 * — no rollout, no name, no index row — in a home that already holds the threads named.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, recordFigures, removeTempDir } from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, skein, snapshotFiles, thread } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

interface BundleEntry {
  id: string;
  relativePath: string;
  content: string;
  encoding: 'utf8' | 'base64';
  size: number;
  sha256: string;
  name: string | null;
  archived: boolean;
}
interface BundleJson {
  rootThreadId: string;
  threads: BundleEntry[];
}

const basenameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Sets an entry's content (utf8) and the size and hash that go with it. */
function withContent(entry: BundleEntry, text: string): BundleEntry {
  const bytes = Buffer.from(text, 'utf8');
  return {
    ...entry,
    encoding: 'utf8',
    content: text,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** The entry moved to a new id: its file name and id changed, its content left as it was. */
function renamedEntry(entry: BundleEntry, id: string): BundleEntry {
  return { ...entry, id, relativePath: entry.relativePath.replace(entry.id, id) };
}

describe('import attacks', () => {
  it('a rollout that is not the thread its entry names is refused, and nothing is written', async () => {
    const started = Date.now();
    const { home, manifest } = fixture('codex-0.169');
    dirs.push(home);
    const victim = thread(manifest, 'plain');
    const dir = makeTempDir('skein-rel-bundles-');
    dirs.push(dir);
    const exported = join(dir, 'victim.json');
    expect((await skein(['export', victim.id, '-o', exported], { home })).code).toBe(0);
    const bundle = JSON.parse(readFileSync(exported, 'utf8')) as BundleJson;
    const entry = bundle.threads[0]!;
    const lines = entry.content.split('\n');
    const newId = randomUUID();

    const attacks: Record<string, BundleJson> = {
      // A new entry id whose session_meta names an existing thread (a second rollout for it).
      'session_meta names an existing thread': {
        ...bundle,
        rootThreadId: newId,
        threads: [renamedEntry(entry, newId)],
      },
      // The path contains the entry id, but the file name's thread id is the victim's.
      'file name names another thread': {
        ...bundle,
        rootThreadId: newId,
        threads: [
          withContent(
            {
              ...renamedEntry(entry, newId),
              relativePath: entry.relativePath.replace(
                `${entry.id}.jsonl`,
                `${entry.id}_${newId}.jsonl`,
              ),
            },
            lines.join('\n').replaceAll(entry.id, newId),
          ),
        ],
      },
      'no session_meta': {
        ...bundle,
        rootThreadId: newId,
        threads: [
          withContent(
            renamedEntry(entry, newId),
            lines.slice(1).join('\n').replaceAll(entry.id, newId),
          ),
        ],
      },
      'empty rollout': {
        ...bundle,
        rootThreadId: newId,
        threads: [withContent(renamedEntry(entry, newId), '')],
      },
      // Two entries, one thread: the second's session_meta names the first.
      'two rollouts for one thread': {
        ...bundle,
        rootThreadId: newId,
        threads: [
          withContent(renamedEntry(entry, newId), entry.content.replaceAll(entry.id, newId)),
          withContent(renamedEntry(entry, randomUUID()), entry.content.replaceAll(entry.id, newId)),
        ],
      },
    };

    const before = snapshotFiles(home);
    const results: Record<string, string> = {};
    for (const [label, crafted] of Object.entries(attacks)) {
      const file = join(dir, `${label.replaceAll(' ', '-')}.json`);
      writeFileSync(file, JSON.stringify(crafted));
      const result = await skein(['import', file], { home });
      results[label] = `${result.code} ${result.stderr.trim().replace(/\s+/g, ' ')}`;
      const shown = await skein(['show', newId, '--json', '--metadata-only'], { home });
      if (shown.code === 0) results[label] += ' (AND the new id now shows a thread)';
    }
    const after = snapshotFiles(home);
    const written = [...after.keys()].filter(
      (rel) => !before.has(rel) && /rollout-|session_index/.test(rel),
    );
    const changed = [...before.keys()].filter(
      (rel) => /rollout-|session_index/.test(rel) && after.get(rel) !== before.get(rel),
    );
    recordFigures(
      'import attacks: entry vs content',
      {
        attacks: Object.keys(attacks).length,
        refused: Object.values(results).filter((r) => r.startsWith('4 ')).length,
        'files written': written.length + changed.length,
      },
      started,
    );
    for (const [label, result] of Object.entries(results)) {
      expect(result, label).toMatch(
        /^4 error: nothing imported: .*(session_meta is thread|file name .* names thread|is empty|does not start with session metadata)/,
      );
    }
    expect(written).toEqual([]);
    expect(changed).toEqual([]);
    expect(existsSync(join(home, 'sessions'))).toBe(true);
  });

  it('a bundle path leaving the home is refused before anything is written', async () => {
    const { home, manifest } = fixture('codex-0.131');
    dirs.push(home);
    const dir = makeTempDir('skein-rel-bundles-');
    dirs.push(dir);
    const exported = join(dir, 'one.json');
    expect(
      (await skein(['export', thread(manifest, 'plain').id, '-o', exported], { home })).code,
    ).toBe(0);
    const bundle = JSON.parse(readFileSync(exported, 'utf8')) as BundleJson;
    const target = makeTempDir('skein-rel-import-');
    dirs.push(target);
    const escapes = [
      `../escaped/${basenameOf(bundle.threads[0]!.relativePath)}`,
      `sessions/2026/01/01/../../../../escaped/${basenameOf(bundle.threads[0]!.relativePath)}`,
      `/tmp/${basenameOf(bundle.threads[0]!.relativePath)}`,
    ];
    for (const [i, relativePath] of escapes.entries()) {
      const file = join(dir, `escape-${i}.json`);
      writeFileSync(
        file,
        JSON.stringify({ ...bundle, threads: [{ ...bundle.threads[0]!, relativePath }] }),
      );
      const result = await skein(['import', file], { home: join(target, 'home') });
      expect(result.code, relativePath).toBe(2);
      expect(result.stderr).toMatch(/relativePath/);
    }
    expect(existsSync(join(target, 'escaped'))).toBe(false);
    expect(existsSync(join(target, 'home', 'sessions'))).toBe(false);
  });
});
