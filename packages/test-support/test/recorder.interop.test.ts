/**
 * Interop tier: needs the real Codex CLI (installed from npm into the cache on first use).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCodexCli } from '../src/codex-cli.js';
import { repoRoot } from '../src/paths.js';
import { AppServerSession } from '../src/recorder/app-server-session.js';
import { MockModelServer } from '../src/recorder/mock-model.js';
import { recordHome } from '../src/recorder/record.js';
import { singleVersionScenario } from '../src/recorder/scenario.js';
import { makeTempDir, removeTempDir } from '../src/temp.js';
import { missingCoverage } from './support/coverage.js';
import { installRecordedHome } from './support/install-recorded-home.js';
import { readRecordedManifest, verifyRecordedHome } from './support/verify-recorded-home.js';

const CODEX = '0.169.0';

describe('recorder against the real codex app-server', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const dir of temps) removeTempDir(dir);
  });

  it('the scripted model speaks SSE that codex accepts: a real turn completes', async () => {
    const dir = makeTempDir('skein-mock-turn-');
    temps.push(dir);
    const home = join(dir, 'home');
    const project = join(dir, 'project');
    mkdirSync(home);
    mkdirSync(project);
    const mock = await MockModelServer.start();
    const messages: string[] = [];
    writeFileSync(
      join(home, 'config.toml'),
      [
        'model = "mock-model"',
        'model_provider = "mock"',
        'approval_policy = "never"',
        '[model_providers.mock]',
        'name = "mock"',
        `base_url = "${mock.baseUrl('mock')}"`,
        'wire_api = "responses"',
        'request_max_retries = 0',
        'stream_max_retries = 0',
        '',
      ].join('\n'),
    );
    const session = new AppServerSession({
      binary: ensureCodexCli(CODEX).binary,
      cwd: project,
      env: { PATH: process.env.PATH, HOME: dir, CODEX_HOME: home },
      transcript: (direction, message) => {
        if (direction === 'recv') messages.push(JSON.stringify(message));
      },
    });
    try {
      await session.initialize('skein_mock_test', false);
      const started = await session.call('thread/start', { cwd: project });
      const threadId = (started.thread as { id: string }).id;
      await session.call('turn/start', {
        threadId,
        input: [{ type: 'text', text: 'Does the mock stream work?', text_elements: [] }],
      });
      const done = await session.waitForNotification(
        (n) => n.method === 'turn/completed' && n.params.threadId === threadId,
        { timeoutMs: 60_000, what: 'turn/completed' },
      );
      expect((done.params.turn as { status: string }).status).toBe('completed');
      const reply = mock.requests.find((r) => r.status === 200);
      expect(reply).toMatchObject({ provider: 'mock', kind: 'message', threadId });
      expect(reply?.lastUser).toBe('Does the mock stream work?');
      const agent = session.notifications.find(
        (n) =>
          n.method === 'item/completed' &&
          (n.params.item as { type: string }).type === 'agentMessage',
      );
      expect(agent).toBeDefined();
      expect((agent!.params.item as { text: string }).text).toBe(reply?.reply);
      const day = readdirSync(join(home, 'sessions'), { recursive: true }).map(String);
      const rollout = day.find((rel) => rel.endsWith(`${threadId}.jsonl`));
      expect(rollout).toBeDefined();
      // The reply holds quotes, so look for it as it appears inside a JSON string.
      const escaped = JSON.stringify(reply?.reply).slice(1, -1);
      expect(readFileSync(join(home, 'sessions', rollout!), 'utf8')).toContain(escaped);
    } finally {
      await session.close();
      await mock.close();
    }
  });

  it(`records a codex ${CODEX} home whose manifest matches its files, in under two minutes`, async () => {
    const dir = makeTempDir('skein-recorded-');
    temps.push(dir);
    const outDir = join(dir, 'home-a');
    const result = await recordHome({ scenario: singleVersionScenario(CODEX), outDir });
    expect(result.durationMs).toBeLessThan(120_000);
    expect(result.checkProblems).toEqual([]);
    expect(existsSync(join(outDir, 'transcript.jsonl'))).toBe(true);
    // Verify a copy, so the check cannot lean on anything the recorder left open.
    const copy = join(dir, 'copy');
    cpSync(outDir, copy, { recursive: true });
    expect(verifyRecordedHome(copy)).toEqual([]);
    expect(missingCoverage(readRecordedManifest(copy))).toEqual([]);
    const transcript = readFileSync(join(copy, 'transcript.jsonl'), 'utf8');
    expect(transcript).not.toMatch(/"\/tmp\/[a-z0-9]{4}\//);
  }, 180_000);

  const recorded = join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded');
  for (const name of existsSync(recorded)
    ? readdirSync(recorded, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : []) {
    it(`codex reads the installed ${name} home: thread/list lists exactly its listable threads`, async () => {
      const home = makeTempDir(`skein-${name}-`);
      temps.push(home);
      const manifest = installRecordedHome(join(recorded, name, 'home-a'), home);
      const session = new AppServerSession({
        binary: ensureCodexCli(manifest.codexVersions.at(-1) ?? manifest.codexVersion).binary,
        cwd: home,
        env: { PATH: process.env.PATH, HOME: home, CODEX_HOME: home },
        transcript: () => {},
      });
      try {
        await session.initialize('skein_recorded_check', true);
        const listed = new Set<string>();
        for (const archived of [false, true]) {
          let cursor: string | null = null;
          for (let page = 0; page < 10; page += 1) {
            const result = await session.call('thread/list', {
              limit: 100,
              archived,
              modelProviders: [],
              sourceKinds: ['cli', 'vscode', 'exec', 'appServer', 'subAgentThreadSpawn', 'unknown'],
              ...(cursor ? { cursor } : {}),
            });
            for (const thread of result.data as { id: string }[]) {
              listed.add(`${thread.id}${archived ? ' (archived)' : ''}`);
            }
            cursor = typeof result.nextCursor === 'string' ? result.nextCursor : null;
            if (!cursor) break;
          }
        }
        // Codex lists a thread once it has a user message (a name alone does not list it).
        const expected = manifest.threads
          .filter((thread) => thread.persisted && thread.userMessages.length > 0)
          .map((thread) => `${thread.id}${thread.archived ? ' (archived)' : ''}`);
        expect([...listed].sort()).toEqual(expected.sort());
      } finally {
        await session.close();
      }
    });
  }
});
