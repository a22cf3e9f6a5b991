/**
 * Damaged rollouts in copies of real Codex homes (0.131 legacy and 0.169 paginated), seen by
 * a fresh app-server and a fresh `skein`:
 * - a torn last line and malformed lines in the middle are skipped: the thread reads with
 *   every turn, takes new items, and the torn bytes stay as they were;
 * - an emptied rollout, or one whose session_meta is malformed, cannot be read: `thread/read`
 *   answers 0.169.0's -32603 naming the file and why (one stderr line, no stack trace),
 *   `skein show` says why, and
 *   `skein doctor` reports the file as a problem.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FixtureName,
  installFixtureHome,
  JsonRpcChild,
  LineChild,
  recordFigures,
  removeTempDir,
  rolloutFilesOnDisk,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { SKEIN_MAIN } from './support/differential.js';

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'dist', 'main.js');
const homes: string[] = [];
afterAll(() => {
  for (const home of homes) removeTempDir(home);
});

function startServer(home: string): JsonRpcChild {
  return new JsonRpcChild(process.execPath, [SKEIN_MAIN], {
    env: { ...process.env, CODEX_HOME: home },
    cwd: home,
  });
}

async function skein(home: string, args: string[]) {
  const run = new LineChild(process.execPath, [CLI, '--codex-home', home, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exit = await run.exited;
  return { code: exit.code, stdout: run.lines.join('\n'), stderr: run.stderr };
}

function roleId(
  manifest: { roles: unknown; threads: { key: string; id: string }[] },
  role: string,
) {
  const key = (manifest.roles as Record<string, string>)[role];
  const found = manifest.threads.find((t) => t.key === key);
  if (!found) throw new Error(`no thread for role ${role}`);
  return found.id;
}

const fixtures: FixtureName[] = ['codex-0.131', 'codex-0.169'];

describe('damaged rollouts', () => {
  for (const name of fixtures) {
    it(`${name}: a torn tail and malformed lines are skipped; the thread reads, takes new items, and keeps the torn bytes`, async () => {
      const started = Date.now();
      const { home, manifest } = installFixtureHome(name);
      homes.push(home);
      const torn = roleId(manifest, 'multiTurn');
      const malformed = roleId(manifest, 'recent');
      const server = startServer(home);
      await server.initialize();
      const turnsOf = async (threadId: string) =>
        (
          await server.request<{ thread: { turns: unknown[] } }>('thread/read', {
            threadId,
            includeTurns: true,
          })
        ).thread.turns.length;
      const before = { torn: await turnsOf(torn), malformed: await turnsOf(malformed) };
      await server.stop();

      const tornFile = rolloutFilesOnDisk(home, torn).active[0]!;
      const tornBytes = '{"timestamp":"2026-11-22T03:40:00.000Z","type":"event_msg","payl';
      writeFileSync(tornFile, readFileSync(tornFile, 'utf8') + tornBytes);
      const malformedFile = rolloutFilesOnDisk(home, malformed).active[0]!;
      const lines = readFileSync(malformedFile, 'utf8').split('\n');
      lines.splice(
        3,
        0,
        'not json at all',
        '{"type":"no_such_type","payload":{}}',
        '[1,2,3]',
        '{"record_type":"state"}',
      );
      writeFileSync(malformedFile, lines.join('\n'));

      const fresh = startServer(home);
      await fresh.initialize();
      const readTurns = async (threadId: string) =>
        (
          await fresh.request<{ thread: { turns: unknown[] } }>('thread/read', {
            threadId,
            includeTurns: true,
          })
        ).thread.turns.length;
      expect(await readTurns(torn)).toBe(before.torn);
      expect(await readTurns(malformed)).toBe(before.malformed);
      const listed = await fresh.request<{ data: { id: string }[] }>('thread/list', { limit: 100 });
      expect(listed.data.map((t) => t.id)).toEqual(expect.arrayContaining([torn, malformed]));
      // New items after the torn line: the writer ends the torn line first, then appends.
      await fresh.request('thread/resume', { threadId: torn });
      await fresh.request('thread/inject_items', {
        threadId: torn,
        items: [
          {
            type: 'message',
            role: 'user',
            content: [{ type: 'input_text', text: 'after the tear' }],
          },
        ],
      });
      await fresh.request('thread/name/set', { threadId: malformed, name: 'still renamable' });
      await fresh.stop();
      const after = readFileSync(tornFile, 'utf8');
      expect(after).toContain(`${tornBytes}\n`);
      expect(after).toContain('after the tear');
      const show = await skein(home, ['show', malformed, '--json']);
      expect(show.code, show.stderr).toBe(0);
      expect(JSON.parse(show.stdout).thread.name).toBe('still renamable');
      recordFigures(
        `damaged rollouts (${name}): torn tail, malformed lines`,
        { 'turns read (torn)': before.torn, 'turns read (malformed)': before.malformed, lost: 0 },
        started,
      );
    });

    it(`${name}: an empty rollout or a malformed session_meta is a clear error everywhere, and a doctor problem`, async () => {
      const started = Date.now();
      const { home, manifest } = installFixtureHome(name);
      homes.push(home);
      const emptied = roleId(manifest, 'plain');
      const badMeta = roleId(manifest, 'unicodeNamed');
      writeFileSync(rolloutFilesOnDisk(home, emptied).active[0]!, '');
      const badMetaFile = rolloutFilesOnDisk(home, badMeta).active[0]!;
      const rest = readFileSync(badMetaFile, 'utf8').split('\n').slice(1);
      writeFileSync(
        badMetaFile,
        ['{"timestamp":"x","type":"session_meta","payload":{"id":42}}', ...rest].join('\n'),
      );

      const server = startServer(home);
      await server.initialize();
      const answers: Record<string, { code: number; message: string } | undefined> = {};
      for (const [label, threadId] of [
        ['empty', emptied],
        ['bad meta', badMeta],
      ] as const) {
        for (const includeTurns of [false, true]) {
          const answer = await server.answer(
            server.send('thread/read', { threadId, includeTurns }),
          );
          answers[`${label} includeTurns=${includeTurns}`] = answer.error;
        }
      }
      // The server keeps serving, and its lists no longer offer what cannot be opened.
      const listed = await server.request<{ data: { id: string }[] }>('thread/list', {
        limit: 100,
      });
      await server.stop();
      const ghosts = listed.data.filter((t) => t.id === emptied || t.id === badMeta).length;
      const stackOnStderr = /\n\s+at /.test(server.stderr);

      for (const [label, error] of Object.entries(answers)) {
        expect(error, label).toBeDefined();
        expect(error?.code, `${label}: ${error?.message}`).toBe(-32603);
        expect(error?.message, label).toMatch(
          /^failed to read thread: thread-store internal error: failed to read session metadata .*: rollout at .* (is empty|does not start with session metadata)$/,
        );
      }
      expect(stackOnStderr, server.stderr).toBe(false);
      expect(listed.data.length).toBeGreaterThan(0);

      expect(ghosts, 'listed after a read found them unreadable').toBe(0);
      const freshList = await skein(home, ['list', '--all', '--json']);
      expect(freshList.code, freshList.stderr).toBe(0);
      const freshIds = (JSON.parse(freshList.stdout) as { id: string }[]).map((t) => t.id);
      expect(freshIds).not.toContain(emptied);
      expect(freshIds).not.toContain(badMeta);

      const show = await skein(home, ['show', emptied]);
      expect(show.code).not.toBe(0);
      expect(show.stderr).toMatch(/empty/);
      const doctor = await skein(home, ['doctor', '--json']);
      expect(doctor.code).toBe(5);
      expect(doctor.stdout).toMatch(/empty-file/);
      expect(doctor.stdout).toMatch(/no-session-meta/);
      // A reindex alone (no read first) also stops listing them.
      const second = installFixtureHome(name);
      homes.push(second.home);
      writeFileSync(rolloutFilesOnDisk(second.home, emptied).active[0]!, '');
      const reindex = await skein(second.home, ['reindex']);
      expect(reindex.code, reindex.stderr).toBe(0);
      const afterReindex = await skein(second.home, ['list', '--all', '--json']);
      const reindexedIds = (JSON.parse(afterReindex.stdout) as { id: string }[]).map((t) => t.id);
      expect(reindexedIds).not.toContain(emptied);
      recordFigures(
        `unreadable rollouts (${name}): empty, malformed session_meta`,
        {
          reads: Object.keys(answers).length,
          'ghosts listed': ghosts + (reindexedIds.includes(emptied) ? 1 : 0),
          'clear errors': Object.values(answers).filter((e) => e !== undefined && e.code !== -32603)
            .length,
          'stack traces': stackOnStderr ? 1 : 0,
        },
        started,
      );
    });
  }
});
