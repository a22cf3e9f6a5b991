/**
 * What `thread/resume` answers from the resumed session rather than the row, against the real
 * codex-cli 0.169.0 on the home 0.131.0 recorded (its DB rows hold no git; the session metas
 * do): the resumed thread shows its session meta's git where the row has none while a read
 * still answers the row's, and a second resume of the loaded thread answers the live session's
 * settings (0.169.0 does not re-read the settings the first resume recorded); a fork starts
 * from its source session's settings wherever its turn cut falls.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, installHomeCopy, removeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skeinBuilt, withServer } from './support/differential.js';
import type { Message } from './support/rpc-process.js';

const RECORDED_HOME = join(fixturesDir(), 'recorded', 'codex-0.131.0', 'home-a');

/** The recorder's providers, so the threads can be resumed at all. */
const CONFIG_TOML = ['mock', 'mock_alt']
  .map((id) => `[model_providers.${id}]\nname = "${id}"\nbase_url = "http://127.0.0.1:9/v1"\n`)
  .join('\n');

/** An unarchived thread whose row has no git and whose session meta has some. */
function threadWithMetaOnlyGit(home: string): { id: string; git: Record<string, unknown> } {
  const db = new Database(join(home, 'state_5.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare(
        `select id, rollout_path as path from threads
         where archived = 0 and git_sha is null and git_branch is null and git_origin_url is null
         order by id`,
      )
      .all() as { id: string; path: string }[];
    for (const row of rows) {
      const file = readdirSync(join(home, 'sessions'), { recursive: true })
        .map(String)
        .find((name) => name.endsWith(`${row.id}.jsonl`));
      if (file === undefined) continue;
      const first = readFileSync(join(home, 'sessions', file), 'utf8').split('\n')[0] as string;
      const git = (JSON.parse(first) as { payload: { git?: Record<string, unknown> | null } })
        .payload.git;
      if (git?.commit_hash != null) return { id: row.id, git };
    }
  } finally {
    db.close();
  }
  throw new Error('the recorded home has no thread with git only in its session meta');
}

const temps: string[] = [];
let threadId = '';
let metaGit: Record<string, unknown> = {};
const answers = { codex: [] as unknown[], skein: [] as unknown[] };

function facts(answer: Message): unknown {
  if ('error' in answer) return { error: answer.error };
  const result = answer.result as {
    thread: { gitInfo: unknown };
    activePermissionProfile?: unknown;
    approvalPolicy?: unknown;
  };
  return {
    gitInfo: result.thread.gitInfo,
    activePermissionProfile: result.activePermissionProfile,
    approvalPolicy: result.approvalPolicy,
  };
}

async function play(side: 'codex' | 'skein'): Promise<void> {
  const home = installHomeCopy(RECORDED_HOME);
  temps.push(home);
  writeFileSync(join(home, 'config.toml'), CONFIG_TOML);
  await withServer(side, home, 'skein_resume_session', async (proc) => {
    answers[side].push(
      facts(await proc.request('thread/resume', { threadId, excludeTurns: true })),
    );
    answers[side].push(facts(await proc.request('thread/read', { threadId })));
    answers[side].push(facts(await proc.request('thread/resume', { threadId })));
  });
}

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  // Read from a copy: even a read-only SQLite open may leave -wal/-shm files beside the DB.
  const scratch = installHomeCopy(RECORDED_HOME);
  temps.push(scratch);
  ({ id: threadId, git: metaGit } = threadWithMetaOnlyGit(scratch));
  await play('codex');
  await play('skein');
}, 120_000);

afterAll(() => {
  for (const dir of temps) removeTempDir(dir);
});

describe('thread/resume answers the resumed session', () => {
  it('0.169.0 shows the session meta git on resume, the row on read, and keeps the profile', () => {
    const git = {
      sha: metaGit.commit_hash,
      branch: metaGit.branch,
      originUrl: metaGit.repository_url,
    };
    expect(answers.codex[0]).toMatchObject({
      gitInfo: git,
      activePermissionProfile: { id: ':read-only' },
    });
    expect(answers.codex[1]).toMatchObject({ gitInfo: null });
    expect(answers.codex[2]).toMatchObject({
      gitInfo: git,
      activePermissionProfile: { id: ':read-only' },
    });
  });

  it('Skein answers each step as 0.169.0 does', () => {
    expect(answers.skein).toEqual(answers.codex);
  });
});

/**
 * A fork starts from its source's latest settings wherever its turn cut falls: on the home
 * recorded by 0.131.0 then 0.169.0, a thread whose 0.169.0 settings snapshot comes after its
 * first turns, forked through its first turn, answers no built-in permission profile (the
 * snapshot holds one), as 0.169.0 does.
 */
const MIXED_HOME = join(fixturesDir(), 'recorded', 'mixed-0.131.0-0.169.0', 'home-a');

/** A thread with a settings snapshot after its first completed turn, and that turn's id. */
function threadWithLateSnapshot(home: string): { id: string; firstTurnId: string } {
  const files = readdirSync(join(home, 'sessions'), { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.jsonl'))
    .sort();
  for (const file of files) {
    const lines = readFileSync(join(home, 'sessions', file), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { type: string; payload: Record<string, unknown> });
    const kind = (i: number) => (lines[i]?.type === 'event_msg' ? lines[i]?.payload.type : null);
    const firstEnd = lines.findIndex((_, i) => kind(i) === 'task_complete');
    const snapshot = lines.findIndex((_, i) => kind(i) === 'thread_settings_applied');
    const firstTurnId = lines[firstEnd]?.payload.turn_id;
    const id = lines[0]?.payload.id;
    if (firstEnd >= 0 && snapshot > firstEnd && typeof firstTurnId === 'string') {
      if (typeof id === 'string') return { id, firstTurnId };
    }
  }
  throw new Error('the mixed home has no thread with a settings snapshot after its first turn');
}

describe('thread/fork starts from the source session', () => {
  const forks = { codex: [] as unknown[], skein: [] as unknown[] };

  beforeAll(async () => {
    const { id, firstTurnId } = threadWithLateSnapshot(MIXED_HOME);
    for (const side of ['codex', 'skein'] as const) {
      const home = installHomeCopy(MIXED_HOME);
      temps.push(home);
      writeFileSync(join(home, 'config.toml'), CONFIG_TOML);
      await withServer(side, home, 'skein_fork_session', async (proc) => {
        for (const cut of [{ lastTurnId: firstTurnId }, {}]) {
          const answer = await proc.request('thread/fork', { threadId: id, ...cut });
          forks[side].push(
            'error' in answer
              ? answer.error
              : (answer.result as { activePermissionProfile: unknown }).activePermissionProfile,
          );
        }
      });
    }
  }, 120_000);

  it('answers the permission profile of the source, cut or not, as 0.169.0 does', () => {
    expect(forks.codex).toEqual([null, null]);
    expect(forks.skein).toEqual(forks.codex);
  });
});
