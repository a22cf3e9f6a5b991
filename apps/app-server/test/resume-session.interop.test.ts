/**
 * What `thread/resume` answers from the resumed session rather than the row, against the real
 * codex-cli 0.169.0 on the home 0.131.0 recorded (its DB rows hold no git; the session metas
 * do): the resumed thread shows its session meta's git where the row has none while a read
 * still answers the row's, and a second resume of the loaded thread answers the live session's
 * settings (0.169.0 does not re-read the settings the first resume recorded).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli, fixturesDir, installHomeCopy, removeTempDir } from '@skein/test-support';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKEIN_MAIN, skeinBuilt } from './support/differential.js';
import { type Message, RpcProcess } from './support/rpc-process.js';

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
  const env = { ...process.env, CODEX_HOME: home, RUST_LOG: 'error', NO_COLOR: '1' };
  const proc =
    side === 'codex'
      ? RpcProcess.spawn(ensureCodexCli('0.169.0').binary, ['app-server'], { env, cwd: home })
      : RpcProcess.spawn(process.execPath, [SKEIN_MAIN], { env, cwd: home });
  try {
    await proc.initialize({ experimentalApi: true }, 'skein_resume_session');
    answers[side].push(
      facts(await proc.request('thread/resume', { threadId, excludeTurns: true })),
    );
    answers[side].push(facts(await proc.request('thread/read', { threadId })));
    answers[side].push(facts(await proc.request('thread/resume', { threadId })));
  } finally {
    await proc.close();
  }
}

beforeAll(async () => {
  expect(skeinBuilt(), 'build apps/app-server first').toBe(true);
  ({ id: threadId, git: metaGit } = threadWithMetaOnlyGit(RECORDED_HOME));
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
