import {
  appendFileSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type FixtureManifest, type ManifestThread, makeTempDir } from '@skein/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  fixture,
  rolloutSnapshot,
  skein,
  skeinJson,
  skeinOnTty,
  skeinProcess,
  snapshotFiles,
  sqliteFiles,
  thread,
} from './helpers.js';

interface ThreadJson {
  id: string;
  name: string | null;
  preview: string;
  path: string | null;
  parentThreadId: string | null;
  source: unknown;
  status: { type: string };
  turns: unknown[];
  createdAt: number;
  updatedAt: number;
}

const THREAD_FIELDS = [
  'id',
  'sessionId',
  'forkedFromId',
  'parentThreadId',
  'preview',
  'ephemeral',
  'historyMode',
  'modelProvider',
  'model',
  'reasoningEffort',
  'createdAt',
  'updatedAt',
  'recencyAt',
  'status',
  'path',
  'cwd',
  'cliVersion',
  'source',
  'threadSource',
  'agentNickname',
  'agentRole',
  'gitInfo',
  'name',
  'turns',
];

/** Listed by default: persisted, not archived, not a sub-agent (interactive sources only). */
function defaultListed(manifest: FixtureManifest): ManifestThread[] {
  return manifest.threads.filter(
    (t) => t.persisted && !t.ephemeral && !t.archived && t.parentThreadId === null,
  );
}

function rolloutPathOf(home: string, _manifest: FixtureManifest, t: ManifestThread): string {
  const observed = t.observed as { rolloutFile?: string } | null;
  if (!observed?.rolloutFile) throw new Error(`no rollout file recorded for ${t.key}`);
  return join(home, observed.rolloutFile);
}

describe.each(['codex-0.169', 'codex-0.131'] as const)('skein on the %s fixture home', (name) => {
  let home: string;
  let manifest: FixtureManifest;

  beforeAll(() => {
    ({ home, manifest } = fixture(name));
  });

  it('lists the same threads as thread/list would, newest first, as Thread objects', async () => {
    const listed = await skeinJson<ThreadJson[]>(['list'], { home });
    const expected = defaultListed(manifest).reverse();
    expect(listed.map((t) => t.id)).toEqual(expected.map((t) => t.id));
    for (const item of listed) {
      expect(Object.keys(item)).toEqual(expect.arrayContaining(THREAD_FIELDS));
      expect(item.status).toEqual({ type: 'notLoaded' });
      expect(item.turns).toEqual([]);
      const truth = manifest.threads.find((t) => t.id === item.id)!;
      expect(item.name).toBe(truth.name);
      expect(item.preview).toBe(truth.preview);
    }
  });

  it('pages with --limit and --cursor without gaps or repeats, and --all gets everything', async () => {
    const expected = defaultListed(manifest)
      .reverse()
      .map((t) => t.id);
    const first = await skein(['list', '--limit', '4', '--json'], { home });
    expect(first.code).toBe(0);
    const cursor = /--cursor '([^']+)'/.exec(first.stderr)?.[1];
    expect(cursor).toBeTruthy();
    const second = await skeinJson<ThreadJson[]>(['list', '--limit', '4', '--cursor', cursor!], {
      home,
    });
    const all = await skeinJson<ThreadJson[]>(['list', '--limit', '2', '--all'], { home });
    expect([...(JSON.parse(first.stdout) as ThreadJson[]), ...second].map((t) => t.id)).toEqual(
      expected.slice(0, 8),
    );
    expect(all.map((t) => t.id)).toEqual(expected);
  });

  it('filters like thread/list: archived, source kinds, cwd, search', async () => {
    const archived = await skeinJson<ThreadJson[]>(['list', '--archived'], { home });
    const expectedArchived = manifest.threads.filter((t) => t.archived && t.persisted);
    expect(new Set(archived.map((t) => t.id))).toEqual(new Set(expectedArchived.map((t) => t.id)));

    const child = thread(manifest, 'child');
    const withSubAgents = await skeinJson<ThreadJson[]>(['list', '--source', 'any'], { home });
    expect(withSubAgents.map((t) => t.id)).toContain(child.id);
    const onlySpawned = await skeinJson<ThreadJson[]>(['list', '--source', 'subAgentThreadSpawn'], {
      home,
    });
    expect(onlySpawned.map((t) => t.id)).toEqual([child.id]);

    const projects = (manifest.probes as { cwd: { single: string } }).cwd.single;
    const cwd = manifest.threads.find((t) => t.cwd.endsWith(`/${projects}`))!.cwd;
    const inCwd = await skeinJson<ThreadJson[]>(['list', '--cwd', cwd], { home });
    expect(inCwd.length).toBeGreaterThan(0);
    expect(inCwd.every((t) => (t as unknown as { cwd: string }).cwd === cwd)).toBe(true);

    const none = await skein(['list', '--sort', 'bogus'], { home });
    expect(none.code).toBe(2);
    const badCursor = await skein(['list', '--cursor', 'garbage'], { home });
    expect(badCursor.code).toBe(2);
  });

  it('prints a readable table', async () => {
    const result = await skein(['list'], { home });
    expect(result.code).toBe(0);
    const named = defaultListed(manifest).find((t) => t.name !== null)!;
    expect(result.stdout).toContain(named.name!);
    expect(result.stdout).toContain(named.id.slice(0, 13));
  });

  it('shows a thread by id, prefix and name, with its transcript', async () => {
    const multi = thread(manifest, 'multiTurn');
    const byId = await skein(['show', multi.id], { home });
    expect(byId.code).toBe(0);
    for (const message of multi.userMessages) expect(byId.stdout).toContain(message);
    for (const message of multi.agentMessages)
      expect(byId.stdout).toContain(message.split('\n')[0]!);

    const named = thread(manifest, 'recent');
    const byName = await skeinJson<{ thread: ThreadJson; items: unknown[] }>(
      ['show', named.name!],
      {
        home,
      },
    );
    expect(byName.thread.id).toBe(named.id);
    expect(byName.items.length).toBeGreaterThan(0);

    const byPrefix = await skeinJson<{ thread: ThreadJson }>(['show', multi.id.slice(0, 13)], {
      home,
    });
    expect(byPrefix.thread.id).toBe(multi.id);

    // A fork shows the history it inherited (0.169 forks by reference, 0.131 by copy).
    const fork = thread(manifest, 'fork');
    const forkShown = await skein(['show', fork.id], { home });
    expect(forkShown.code).toBe(0);
    let at = -1;
    for (const message of fork.userMessages) {
      const index = forkShown.stdout.indexOf(message, at + 1);
      expect(index).toBeGreaterThan(at);
      at = index;
    }

    expect((await skein(['show', '00000000-0000-4000-8000-000000000000'], { home })).code).toBe(3);
    expect((await skein(['show', 'no such thread name'], { home })).code).toBe(3);
    // Every thread id shares the first characters (UUIDv7 time prefix): ambiguous.
    expect((await skein(['show', multi.id.slice(0, 4)], { home })).code).toBe(2);
  });

  it('searches names, titles and previews of active and archived threads', async () => {
    const probes = manifest.probes as { search: { shared: string }; searchArchived: string };
    for (const term of [probes.search.shared, probes.searchArchived]) {
      const found = await skeinJson<ThreadJson[]>(['search', term], { home });
      const expected = manifest.threads.filter(
        (t) => t.persisted && ((t.name ?? '').includes(term) || (t.preview ?? '').includes(term)),
      );
      expect(new Set(found.map((t) => t.id))).toEqual(new Set(expected.map((t) => t.id)));
    }
  });

  it('searches inside conversations with --content, with snippets', async () => {
    const multi = thread(manifest, 'multiTurn');
    const reply = multi.agentMessages[multi.agentMessages.length - 1]!;
    const marker = /\[([0-9a-f]{8})\]/.exec(reply)?.[1] ?? reply.slice(0, 20);
    const hits = await skeinJson<{ thread: ThreadJson; snippet: string }[]>(
      ['search', '--content', marker.toUpperCase()],
      { home },
    );
    expect(hits.map((hit) => hit.thread.id)).toEqual([multi.id]);
    expect(hits[0]!.snippet.toLowerCase()).toContain(marker.toLowerCase());
  });

  it('debug prompt-input reads files only: no SQLite file is created or touched', async () => {
    const fresh = fixture(name);
    const before = snapshotFiles(fresh.home, (rel) => /\.sqlite/.test(rel));
    const sqliteBefore = sqliteFiles(fresh.home);
    const multi = thread(fresh.manifest, 'multiTurn');
    const result = await skein(['debug', 'prompt-input', multi.id], { home: fresh.home });
    expect(result.code).toBe(0);
    const items = JSON.parse(result.stdout) as { type: string; role?: string }[];
    expect(items.some((item) => item.type === 'message' && item.role === 'user')).toBe(true);
    expect(JSON.stringify(items)).toContain(multi.userMessages[0]!);
    expect(sqliteFiles(fresh.home)).toEqual(sqliteBefore);
    expect(snapshotFiles(fresh.home, (rel) => /\.sqlite/.test(rel))).toEqual(before);
  });
});

describe('mutations (0.169 fixture)', () => {
  it('renames through the name index', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const plain = thread(manifest, 'plain');
    expect((await skein(['rename', plain.id, '  Kiwi triage  '], { home })).code).toBe(0);
    const shown = await skeinJson<{ thread: ThreadJson }>(['show', plain.id, '--metadata-only'], {
      home,
    });
    expect(shown.thread.name).toBe('Kiwi triage');
    const index = readFileSync(join(home, 'session_index.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(index[index.length - 1]!)).toMatchObject({
      id: plain.id,
      thread_name: 'Kiwi triage',
    });
    expect((await skein(['rename', plain.id, '   '], { home })).code).toBe(2);
  });

  it('archives and unarchives a parent together with its sub-agent thread', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const parent = thread(manifest, 'parent');
    const child = thread(manifest, 'child');
    const archived = await skeinJson<{ archived: string[] }>(['archive', parent.id], { home });
    expect(archived.archived).toEqual([parent.id, child.id]);
    const listedArchived = await skeinJson<ThreadJson[]>(
      ['list', '--archived', '--source', 'any'],
      {
        home,
      },
    );
    expect(listedArchived.map((t) => t.id)).toEqual(expect.arrayContaining([parent.id, child.id]));
    expect(existsSync(join(home, 'archived_sessions'))).toBe(true);
    expect((await skein(['archive', parent.id], { home })).code).toBe(4);

    const unarchived = await skeinJson<{ unarchived: string[] }>(['unarchive', parent.id], {
      home,
    });
    expect(unarchived.unarchived).toEqual([parent.id, child.id]);
    const active = await skeinJson<ThreadJson[]>(['list', '--source', 'any'], { home });
    expect(active.map((t) => t.id)).toEqual(expect.arrayContaining([parent.id, child.id]));
    expect((await skein(['unarchive', parent.id], { home })).code).toBe(4);
  });

  it('refuses to delete without a terminal and without --yes; deletes the tree with --yes', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const parent = thread(manifest, 'parent');
    const child = thread(manifest, 'child');
    const parentFile = rolloutPathOf(home, manifest, parent);
    const refused = await skein(['delete', parent.id], { home });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/--yes/);
    expect(existsSync(parentFile)).toBe(true);

    const deleted = await skeinJson<{ deleted: string[] }>(['delete', parent.id, '--yes'], {
      home,
    });
    expect(new Set(deleted.deleted)).toEqual(new Set([parent.id, child.id]));
    expect(existsSync(parentFile)).toBe(false);
    expect(existsSync(rolloutPathOf(home, manifest, child))).toBe(false);
    expect((await skein(['show', parent.id], { home })).code).toBe(3);
  });
});

describe('delete on a terminal', () => {
  it('asks first: "n" keeps the thread (exit 4), "y" deletes it', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const target = thread(manifest, 'metadataUpdated');
    const file = rolloutPathOf(home, manifest, target);
    const declined = skeinOnTty(['delete', target.id], { home, input: 'n\n' });
    expect(declined.code).toBe(4);
    expect(declined.stdout).toMatch(/permanently deletes/);
    expect(existsSync(file)).toBe(true);
    const accepted = skeinOnTty(['delete', target.id], { home, input: 'y\n' });
    expect(accepted.code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });
});

describe('doctor', () => {
  it('finds nothing wrong with an intact home, and changes nothing', async () => {
    const { home } = fixture('codex-0.169');
    expect((await skein(['list'], { home })).code).toBe(0);
    const before = rolloutSnapshot(home);
    const report = await skein(['doctor', '--json'], { home });
    expect(report.code).toBe(0);
    const json = JSON.parse(report.stdout) as { ok: boolean; findings: { severity: string }[] };
    expect(json.ok).toBe(true);
    expect(json.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(rolloutSnapshot(home)).toEqual(before);
  });

  it('reports torn tails and malformed lines per file and never rewrites them', async () => {
    const { home, manifest } = fixture('codex-0.169');
    expect((await skein(['list'], { home })).code).toBe(0);
    const plain = thread(manifest, 'plain');
    const file = rolloutPathOf(home, manifest, plain);
    const multi = rolloutPathOf(home, manifest, thread(manifest, 'multiTurn'));
    appendFileSync(multi, 'this is not json\n');
    appendFileSync(file, '{"timestamp":"2026-11-22T03:40:00.000Z","type":"event_m');
    const before = rolloutSnapshot(home);
    const report = JSON.parse((await skein(['doctor', '--json'], { home })).stdout) as {
      findings: { kind: string; subject: string; message: string }[];
    };
    const torn = report.findings.find((f) => f.kind === 'torn-tail');
    expect(torn?.subject).toContain(plain.id);
    const malformed = report.findings.find((f) => f.kind === 'malformed-lines');
    expect(malformed?.subject).toContain(thread(manifest, 'multiTurn').id);
    const repaired = await skein(['doctor', '--repair'], { home });
    expect(repaired.code).toBe(0);
    expect(rolloutSnapshot(home)).toEqual(before);
    // The torn thread still lists with its preview.
    expect((await skeinJson<ThreadJson[]>(['list'], { home })).map((t) => t.id)).toContain(
      plain.id,
    );
  });

  it('finds stale rows, rows pointing at another thread, files the index lacks; --repair fixes them and loses no byte', async () => {
    const { home, manifest } = fixture('codex-0.169');
    expect((await skein(['list'], { home })).code).toBe(0);
    // A stale row: the rollout is gone (deleted behind skein's back).
    const gone = thread(manifest, 'plain');
    unlinkSync(rolloutPathOf(home, manifest, gone));
    // A file the index lacks: a thread from another home dropped in.
    const other = fixture('codex-0.131');
    const orphan = thread(other.manifest, 'multiTurn');
    const orphanName = (orphan.observed as { rolloutFile: string }).rolloutFile.split('/').pop()!;
    const orphanTarget = join(home, 'sessions', '2026', '11', '22', orphanName);
    copyFileSync(rolloutPathOf(other.home, other.manifest, orphan), orphanTarget);

    // A row pointing at a file of another thread: T5's file now holds T6's bytes.
    const hijacked = thread(manifest, 'metadataUpdated');
    const donor = thread(manifest, 'unarchived');
    copyFileSync(rolloutPathOf(home, manifest, donor), rolloutPathOf(home, manifest, hijacked));

    const before = rolloutSnapshot(home);
    const check = await skein(['doctor', '--json'], { home });
    expect(check.code).toBe(5);
    const report = JSON.parse(check.stdout) as { findings: { kind: string; subject: string }[] };
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'row-file-missing', subject: gone.id }),
        expect.objectContaining({ kind: 'row-file-other-thread', subject: hijacked.id }),
        expect.objectContaining({ kind: 'file-not-indexed' }),
      ]),
    );
    const human = await skein(['doctor'], { home });
    expect(human.code).toBe(5);
    expect(human.stdout).toMatch(/doctor --repair/);

    const repair = await skein(['doctor', '--repair'], { home });
    expect(repair.code).toBe(0);
    expect(repair.stdout).toMatch(/repaired/);
    expect(rolloutSnapshot(home)).toEqual(before);
    expect((await skein(['doctor'], { home })).code).toBe(0);
    const listed = await skeinJson<ThreadJson[]>(['list', '--provider', 'any', '--source', 'any'], {
      home,
    });
    expect(listed.map((t) => t.id)).toContain(orphan.id);
    expect(listed.map((t) => t.id)).not.toContain(gone.id);
    expect(listed.map((t) => t.id)).not.toContain(hijacked.id);
    expect(listed.map((t) => t.id)).toContain(donor.id);
  });

  it('handles a deleted state index and name-index entries for unknown threads', async () => {
    const { home } = fixture('codex-0.131');
    expect((await skein(['list'], { home })).code).toBe(0);
    // The home loses Codex's state DB (the index Skein shares with Codex).
    for (const file of readdirSync(home))
      if (file.startsWith('state_5.sqlite')) rmSync(join(home, file));
    appendFileSync(
      join(home, 'session_index.jsonl'),
      `${JSON.stringify({ id: '0199aaaa-0000-7000-8000-000000000001', thread_name: 'ghost', updated_at: '2026-11-22T00:00:00Z' })}\n`,
    );
    const before = rolloutSnapshot(home);
    const report = JSON.parse((await skein(['doctor', '--json'], { home })).stdout) as {
      stateDb: { exists: boolean };
      findings: { kind: string; subject: string }[];
    };
    expect(report.stateDb.exists).toBe(false);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'state-db-missing' }),
        expect.objectContaining({
          kind: 'name-unknown-thread',
          subject: '0199aaaa-0000-7000-8000-000000000001',
        }),
      ]),
    );
    const repaired = await skein(['doctor', '--repair', '--json'], { home });
    expect(repaired.code).toBe(0);
    expect(
      (JSON.parse(repaired.stdout) as { stateDb: { exists: boolean; rows: number } }).stateDb,
    ).toMatchObject({ exists: true });
    expect(rolloutSnapshot(home)).toEqual(before);
  });
});

describe('backfill and reindex', () => {
  it('index every rollout once; reindex re-reads them and keeps names', async () => {
    const { home, manifest } = fixture('codex-0.131');
    // Rollouts only: no state DB yet (Skein creates Codex's and fills it).
    for (const file of readdirSync(home))
      if (file.startsWith('state_5.sqlite')) rmSync(join(home, file));
    const files = rolloutSnapshot(home).size;
    const first = await skeinJson<{ status: string; filesDone: number; alreadyComplete: boolean }>(
      ['backfill'],
      { home },
    );
    expect(first).toMatchObject({ status: 'complete', filesDone: files, alreadyComplete: false });
    const again = await skeinJson<{ alreadyComplete: boolean }>(['backfill'], { home });
    expect(again.alreadyComplete).toBe(true);
    const named = thread(manifest, 'recent');
    expect((await skein(['rename', named.id, 'Renamed before reindex'], { home })).code).toBe(0);
    const before = rolloutSnapshot(home);
    const reindexed = await skeinJson<{ status: string; filesDone: number }>(['reindex'], { home });
    expect(reindexed).toMatchObject({ status: 'complete', filesDone: files });
    expect(
      (await skeinJson<{ thread: ThreadJson }>(['show', named.id, '--metadata-only'], { home }))
        .thread.name,
    ).toBe('Renamed before reindex');
    expect(rolloutSnapshot(home)).toEqual(before);
  });

  it('a corrupt state index is set aside (db-backups/) and rebuilt from the files', async () => {
    const { home, manifest } = fixture('codex-0.169');
    expect((await skein(['list'], { home })).code).toBe(0);
    const db = 'state_5.sqlite';
    for (const side of readdirSync(home)) if (side.startsWith(`${db}-`)) rmSync(join(home, side));
    writeFileSync(join(home, db), 'this is not a database, it was overwritten by accident');
    const listed = await skeinJson<ThreadJson[]>(['list'], { home });
    expect(listed.map((t) => t.id)).toEqual(
      defaultListed(manifest)
        .reverse()
        .map((t) => t.id),
    );
    expect(readdirSync(join(home, 'db-backups')).length).toBeGreaterThan(0);
  });
});

describe('export and import', () => {
  it('round-trips a thread tree into a fresh home: ids, names, archived state and bytes identical', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const parent = thread(manifest, 'parent');
    const child = thread(manifest, 'child');
    const archivedNamed = thread(manifest, 'archived');
    const dir = makeTempDir('skein-export-');
    const treeFile = join(dir, 'tree.json');
    const archivedFile = join(dir, 'archived.json');
    expect((await skein(['export', parent.id, '--tree', '-o', treeFile], { home })).code).toBe(0);
    expect((await skein(['export', archivedNamed.id, '-o', archivedFile], { home })).code).toBe(0);
    expect((await skein(['export', archivedNamed.id, '-o', archivedFile], { home })).code).toBe(4);

    const target = join(makeTempDir('skein-import-'), 'home');
    expect((await skein(['import', treeFile], { home: target })).code).toBe(0);
    expect((await skein(['import', archivedFile], { home: target })).code).toBe(0);

    const source = rolloutSnapshot(home);
    const imported = rolloutSnapshot(target);
    for (const [rel, hash] of imported) expect(source.get(rel)).toBe(hash);
    expect(imported.size).toBe(3);

    const shownArchived = await skeinJson<{ thread: ThreadJson; archived: boolean }>(
      ['show', archivedNamed.id, '--metadata-only'],
      { home: target },
    );
    expect(shownArchived.thread.name).toBe(archivedNamed.name);
    expect(shownArchived.archived).toBe(true);
    const shownChild = await skeinJson<{ thread: ThreadJson }>(
      ['show', child.id, '--metadata-only'],
      {
        home: target,
      },
    );
    expect(shownChild.thread.parentThreadId).toBe(parent.id);
    const original = await skeinJson<{ thread: ThreadJson; items: unknown[] }>(
      ['show', parent.id],
      {
        home,
      },
    );
    const copy = await skeinJson<{ thread: ThreadJson; items: unknown[] }>(['show', parent.id], {
      home: target,
    });
    expect(copy.items).toEqual(original.items);
    expect(copy.thread.name).toBe(original.thread.name);
    expect(copy.thread.createdAt).toBe(original.thread.createdAt);
    expect(copy.thread.updatedAt).toBe(original.thread.updatedAt);

    // The cascade still knows the tree in the new home.
    expect(
      (await skeinJson<{ archived: string[] }>(['archive', parent.id], { home: target })).archived,
    ).toEqual([parent.id, child.id]);

    const again = await skein(['import', treeFile], { home: target });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already exist/);
  });

  it('pipes: export to stdout, import from stdin', () => {
    const { home, manifest } = fixture('codex-0.131');
    const parent = thread(manifest, 'parent');
    const exported = skeinProcess(['export', parent.id, '--tree'], { home });
    expect(exported.code).toBe(0);
    const target = makeTempDir('skein-import-');
    const imported = skeinProcess(['import', '-', '--json'], {
      home: target,
      input: exported.stdout,
    });
    expect(imported.code).toBe(0);
    const summary = JSON.parse(imported.stdout) as { threads: { id: string }[] };
    expect(summary.threads.map((t) => t.id)).toEqual([parent.id, thread(manifest, 'child').id]);
  });

  it('rejects a damaged or foreign bundle without writing anything', async () => {
    const { home, manifest } = fixture('codex-0.169');
    const dir = makeTempDir('skein-export-');
    const file = join(dir, 'one.json');
    expect((await skein(['export', thread(manifest, 'plain').id, '-o', file], { home })).code).toBe(
      0,
    );
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as {
      threads: { content: string }[];
      version: number;
    };
    bundle.threads[0]!.content = bundle.threads[0]!.content.replace('kiwi', 'KIWI');
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(bundle));
    writeFileSync(join(dir, 'future.json'), JSON.stringify({ ...bundle, version: 99 }));
    const target = makeTempDir('skein-import-');
    const tampered = await skein(['import', join(dir, 'tampered.json')], { home: target });
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toMatch(/sha256/);
    const future = await skein(['import', join(dir, 'future.json')], { home: target });
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/version 99/);
    expect(rolloutSnapshot(target).size).toBe(0);
  });
});

describe('the command itself', () => {
  it('documents exit codes in --help and rejects unknown options with 2', () => {
    const help = skeinProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
    expect(skeinProcess(['list', '--bogus']).code).toBe(2);
    expect(skeinProcess(['list'], { home: '/nonexistent/skein-home' }).code).toBe(2);
  });

  it('creates and uses a demo home when there is no Codex home, and says so', async () => {
    const fakeHome = makeTempDir('skein-user-');
    const env = { HOME: fakeHome, CODEX_HOME: '', XDG_CACHE_HOME: join(fakeHome, '.cache') };
    const first = await skein(['list'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/demo home/i);
    expect(first.stdout.trim().split('\n').length).toBeGreaterThan(2);
    expect(existsSync(join(fakeHome, '.cache', 'skein', 'demo-home', 'sessions'))).toBe(true);
    const second = await skein(['list', '--json'], { env });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as unknown[]).length).toBeGreaterThan(2);
    expect(second.stderr).toMatch(/demo home/i);
  });
});
