/**
 * Issue 12's measure: the manifest of a home written by the real Codex (names, git info,
 * archived state, parents, fork sources, turns and their messages) reads 100% through Skein's
 * app-server — on the two story fixtures and on every home the recorder made with the real
 * binaries (0.169, 0.131, and a 0.131 home continued by 0.169). A persisted thread must read
 * with its turns; a thread the manifest says was never written or was deleted must not read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FIXTURE_NAMES,
  installFixtureHome,
  makeTempDir,
  removeTempDir,
  repoRoot,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { installRecordedHome } from '../../../packages/test-support/test/support/install-recorded-home.js';
import { SKEIN_MAIN } from './support/differential.js';
import { RpcProcess } from './support/rpc-process.js';

interface ManifestThread {
  key: string;
  id: string;
  name: string | null;
  archived: boolean;
  persisted: boolean;
  deleted?: boolean;
  turnCount: number;
  inheritedTurnCount?: number;
  userMessages: string[];
  agentMessages: string[];
  forkedFromId: string | null;
  parentThreadId: string | null;
  gitInfo: { sha?: string | null; branch?: string | null; originUrl?: string | null } | null;
}

interface Home {
  label: string;
  home: string;
  threads: ManifestThread[];
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) removeTempDir(dir);
});

function homes(): { label: string; make: () => Home }[] {
  const out: { label: string; make: () => Home }[] = FIXTURE_NAMES.map((name) => ({
    label: name,
    make: (): Home => {
      const { home, manifest } = installFixtureHome(name);
      temps.push(home);
      return { label: name, home, threads: manifest.threads as unknown as ManifestThread[] };
    },
  }));
  const recorded = join(repoRoot(), 'packages', 'test-support', 'fixtures', 'recorded');
  for (const name of readdirSync(recorded, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()) {
    const label = `recorded ${name}`;
    out.push({
      label,
      make: (): Home => {
        const home = makeTempDir(`skein-manifest-${name}-`);
        temps.push(home);
        const manifest = installRecordedHome(join(recorded, name, 'home-a'), home);
        return { label, home, threads: manifest.threads as unknown as ManifestThread[] };
      },
    });
  }
  return out;
}

interface WireItem {
  type: string;
  text?: string;
  content?: { type: string; text?: string }[];
}
interface WireThread {
  name: string | null;
  path: string | null;
  parentThreadId: string | null;
  forkedFromId: string | null;
  gitInfo: { sha: string | null; branch: string | null; originUrl: string | null } | null;
  turns: { items: WireItem[] }[];
}

function messagesOf(thread: WireThread) {
  const user: string[] = [];
  const agent: string[] = [];
  for (const turn of thread.turns) {
    for (const item of turn.items) {
      if (item.type === 'userMessage') {
        user.push((item.content ?? []).map((part) => part.text ?? '').join(''));
      } else if (item.type === 'agentMessage') {
        agent.push(item.text ?? '');
      }
    }
  }
  return { user, agent };
}

/**
 * The parent a thread read answers: Codex 0.169 takes it from the session meta's own
 * `parent_thread_id`, which 0.131 never wrote (its sub-agents name the parent only inside
 * `source`); the spawn edge itself is checked through the relation listing.
 */
function readParentOf(rolloutPath: string | null, manifestParent: string | null): string | null {
  if (rolloutPath === null || manifestParent === null) return manifestParent;
  const head = readFileSync(rolloutPath, 'utf8').split('\n', 1)[0] ?? '';
  const meta = JSON.parse(head) as { payload?: { parent_thread_id?: string | null } };
  return meta.payload?.parent_thread_id != null ? manifestParent : null;
}

const gitOf = (git: ManifestThread['gitInfo']) =>
  git === null || (git.sha == null && git.branch == null && git.originUrl == null)
    ? null
    : { sha: git.sha ?? null, branch: git.branch ?? null, originUrl: git.originUrl ?? null };

describe.each(homes())("$label: the manifest through Skein's app-server", ({ make }) => {
  it('reads every thread as the manifest records it', async () => {
    const { label, home, threads } = make();
    const server = RpcProcess.spawn(process.execPath, [SKEIN_MAIN], {
      env: { ...process.env, CODEX_HOME: home, HOME: home },
      cwd: home,
    });
    const mismatches: string[] = [];
    let readWithTurns = 0;
    try {
      await server.initialize({ experimentalApi: true });
      for (const t of threads) {
        const response = await server.request('thread/read', {
          threadId: t.id,
          includeTurns: true,
        });
        const where = `${label} ${t.key}`;
        if (!t.persisted || t.deleted === true) {
          if (!('error' in response)) mismatches.push(`${where}: reads although never written`);
          continue;
        }
        if ('error' in response) {
          // A thread written without any message (a name or git set first) has no turns to give.
          if (t.turnCount === 0 && t.userMessages.length === 0) {
            const bare = await server.request('thread/read', { threadId: t.id });
            if ('error' in bare) mismatches.push(`${where}: ${JSON.stringify(bare.error)}`);
            continue;
          }
          mismatches.push(`${where}: ${JSON.stringify(response.error)}`);
          continue;
        }
        const thread = (response.result as { thread: WireThread }).thread;
        if (thread.turns.length > 0) readWithTurns += 1;
        const checks: [string, unknown, unknown][] = [
          ['name', thread.name, t.name],
          ['archived', thread.path?.includes('/archived_sessions/') ?? false, t.archived],
          ['parentThreadId', thread.parentThreadId, readParentOf(thread.path, t.parentThreadId)],
          ['forkedFromId', thread.forkedFromId, t.forkedFromId],
          ['gitInfo', thread.gitInfo, gitOf(t.gitInfo)],
          ['turns', thread.turns.length, t.turnCount],
          ['userMessages', messagesOf(thread).user, t.userMessages],
          ['agentMessages', messagesOf(thread).agent, t.agentMessages],
        ];
        if (t.parentThreadId !== null) {
          const children = await server.request('thread/list', {
            parentThreadId: t.parentThreadId,
            archived: t.archived,
          });
          const ids = ((children.result as { data?: { id: string }[] })?.data ?? []).map(
            (c) => c.id,
          );
          checks.push(['spawnEdge', ids.includes(t.id), true]);
        }
        for (const [field, skein, manifest] of checks) {
          if (JSON.stringify(skein) !== JSON.stringify(manifest)) {
            mismatches.push(
              `${where} ${field}: skein ${JSON.stringify(skein)} | manifest ${JSON.stringify(manifest)}`,
            );
          }
        }
      }
    } finally {
      await server.close();
    }
    expect(mismatches).toEqual([]);
    // Each home holds threads with turns; a run that read none of them checked nothing.
    expect(readWithTurns).toBeGreaterThan(2);
  }, 120_000);
});
