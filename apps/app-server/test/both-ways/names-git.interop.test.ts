/**
 * Names and git metadata, both ways, on every home and history mode:
 * - Skein renames a thread and sets / partially updates / clears git info; a fresh real
 *   `codex app-server` 0.169.0 on the home lists and reads exactly that, keeps it when it
 *   resumes the threads (a legacy resume re-reads the rollout), and so does 0.131.0 on a home
 *   whose DB is still 0.131's;
 * - the real Codex does the same changes while a Skein app-server is open on the home; Skein's
 *   next answers are what Codex itself answers.
 */
import { describe, expect, it } from 'vitest';
import { CASTS, castPairs } from './support/cast.js';
import { expectHealthyHome, gitOf, onHome, using } from './support/checks.js';
import { ALL_HOMES, type TestHome } from './support/homes.js';
import { type CodexVersion, Peer, type WireGitInfo } from './support/peers.js';

const FULL: WireGitInfo = {
  sha: '1111111111111111111111111111111111111111',
  branch: 'skein/full',
  originUrl: 'https://example.invalid/acme/skein.git',
};
const PARTIAL = { branch: 'skein/partial' };
const CLEAR = { sha: null, branch: null, originUrl: null };

interface Targets {
  renamed: string;
  cleared: string;
  name: string;
}

function targets(home: TestHome, mode: 'paginated' | 'legacy', by: string): Targets {
  const plain = CASTS[home.kind].plain[mode];
  if (plain === undefined) throw new Error(`${home.kind} has no ${mode} threads`);
  return {
    renamed: home.thread(plain[0]).id,
    cleared: home.thread(plain[1]).id,
    name: `${by} renamed ${mode} ✓ 名前`,
  };
}

/** Rename + full → partial git on one thread, full → clear on another. */
async function changeNamesAndGit(peer: Peer, t: Targets): Promise<void> {
  await peer.request('thread/name/set', { threadId: t.renamed, name: t.name });
  await peer.request('thread/metadata/update', { threadId: t.renamed, gitInfo: FULL });
  await peer.request('thread/metadata/update', { threadId: t.renamed, gitInfo: PARTIAL });
  await peer.request('thread/metadata/update', { threadId: t.cleared, gitInfo: FULL });
  await peer.request('thread/metadata/update', { threadId: t.cleared, gitInfo: CLEAR });
}

const MERGED: WireGitInfo = { ...FULL, ...PARTIAL };

/** What a reader must answer after `changeNamesAndGit`. */
async function expectChanges(reader: Peer, t: Targets, what: string): Promise<void> {
  const renamed = await reader.read(t.renamed);
  expect.soft(renamed.name, `${what}: name`).toBe(t.name);
  expect.soft(gitOf(renamed.gitInfo), `${what}: merged git`).toEqual(MERGED);
  const cleared = await reader.read(t.cleared);
  expect.soft(gitOf(cleared.gitInfo), `${what}: cleared git`).toBeNull();
  const listed = (await reader.list()).threads.find((thread) => thread.id === t.renamed);
  expect.soft(listed?.name, `${what}: listed name`).toBe(t.name);
  expect.soft(gitOf(listed?.gitInfo), `${what}: listed git`).toEqual(MERGED);
}

describe('Skein renames and updates git → the real Codex sees it', () => {
  it.each(castPairs(ALL_HOMES, 'plain'))('%s, %s threads', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const t = targets(home, mode, 'Skein');
      await using(Peer.skein(home.home), async (skein) => {
        await changeNamesAndGit(skein, t);
        await expectChanges(skein, t, 'skein itself');
      });
      const peers: Peer[] = [];
      if (home.dbVersion === '0.131.0') {
        // The Codex that wrote this DB reads it before a newer one migrates it.
        await using(Peer.codex('0.131.0', home.home), async (codex) => {
          peers.push(codex);
          await expectChanges(codex, t, 'codex 0.131.0');
        });
      }
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        peers.push(codex);
        await expectChanges(codex, t, 'codex 0.169.0');
        // Resuming re-reads the thread (a legacy one from its rollout): nothing may revert.
        for (const threadId of [t.renamed, t.cleared]) {
          await codex.request('thread/resume', { threadId });
        }
      });
      await using(Peer.codex('0.169.0', home.home), async (codex) => {
        peers.push(codex);
        await expectChanges(codex, t, 'codex 0.169.0 after its resume');
      });
      expectHealthyHome(home, '0.169.0', peers);
    });
  });
});

describe('the real Codex renames and updates git → Skein, open before, answers it', () => {
  it.each(castPairs(ALL_HOMES, 'plain'))('%s, %s threads', async (kind, mode) => {
    await onHome(kind, async (home) => {
      const version: CodexVersion = home.dbVersion === '0.131.0' ? '0.131.0' : '0.169.0';
      const t = targets(home, mode, `Codex ${version}`);
      await using(Peer.skein(home.home), async (skein) => {
        // Skein has answered once already: nothing it cached may outlive Codex's change.
        await skein.list();
        await skein.read(t.renamed);
        await using(Peer.codex(version, home.home), async (codex) => {
          await changeNamesAndGit(codex, t);
          const codexView = await codex.read(t.renamed);
          const skeinView = await skein.read(t.renamed);
          expect.soft(skeinView.name, 'name, as Codex answers it').toBe(codexView.name);
          expect
            .soft(gitOf(skeinView.gitInfo), 'git, as Codex answers it')
            .toEqual(gitOf(codexView.gitInfo));
          const codexCleared = await codex.read(t.cleared);
          const skeinCleared = await skein.read(t.cleared);
          expect
            .soft(gitOf(skeinCleared.gitInfo), 'cleared git, as Codex answers it')
            .toEqual(gitOf(codexCleared.gitInfo));
          expectHealthyHome(home, version, [skein, codex]);
        });
        // The values themselves (Codex 0.131 resets a legacy title on a git update, but its
        // session index keeps the name, so both answer the name).
        await expectChanges(skein, t, 'skein after codex');
      });
    });
  });
});
