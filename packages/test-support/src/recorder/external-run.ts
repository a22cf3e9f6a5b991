/**
 * The process driver of runs outside the app-server: `codex exec <prompt>`, and the
 * interactive TUI under a pseudo-terminal. The thread each created is found from the mock
 * model's requests and added to the book with its one turn.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli } from '../codex-cli.js';
import { sleep } from '../reliability/budget.js';
import type { RecorderContext } from './recorder-context.js';
import type { Run } from './scenario-types.js';
import { blankThreadRecord, type TurnRecord } from './thread-book.js';

/** Runs one exec or TUI run and books the thread it created. */
export async function runExecOrTui(
  ctx: RecorderContext,
  run: Extract<Run, { kind: 'exec' | 'tui' }>,
): Promise<void> {
  const cli = ensureCodexCli(run.codex);
  const cwd = ctx.projectDir(run.project);
  const before = ctx.state.modelRequests.length;
  let outcome: { code: number | null; output: string; skipped?: string };
  if (run.kind === 'exec') {
    const args = ['exec', '--skip-git-repo-check', run.prompt];
    ctx.record(run.label, 'process', { event: 'spawn', argv: ['codex', ...args] });
    outcome = await runProcess(cli.binary, args, cwd, ctx.env(run.tz), 90_000);
  } else {
    outcome = await runTui(ctx, cli.binary, run, cwd);
  }
  ctx.record(run.label, 'process', {
    event: 'exit',
    code: outcome.code,
    outputTail: outcome.output.slice(-400),
  });
  // The TUI also asks the model for a title in a thread of its own (not persisted): the
  // scenario's thread is the one that got the prompt.
  const served = ctx.state.modelRequests.slice(before).filter((r) => r.status === 200);
  const ids = [
    ...new Set(
      served
        .filter((r) => r.lastUser === run.prompt && r.threadId !== undefined)
        .map((r) => r.threadId),
    ),
  ];
  const requests = served.filter((r) => r.threadId === ids[0]);
  if (ids.length !== 1) {
    const reason = outcome.skipped ?? `expected one thread, the model saw ${ids.length}`;
    ctx.state.skippedSteps.push({ run: run.label, step: `${run.kind} ${run.key}`, reason });
    ctx.log(`  skipped: ${run.kind} ${run.key} (${reason})`);
    return;
  }
  // The thread exists once the model saw its prompt, finished or not: keep it in the book.
  if (outcome.skipped) ctx.state.problems.push(`${run.key}: ${outcome.skipped}`);
  const id = ids[0]!;
  const record = ctx.state.book.add(blankThreadRecord(run.key, id, run.project, cwd, run));
  record.persisted = true;
  record.source = run.kind === 'exec' ? 'exec' : 'cli';
  record.actions.push(
    `${run.label}: codex ${run.kind === 'exec' ? 'exec' : '(TUI)'} ${JSON.stringify(run.prompt)}`,
  );
  const turn: TurnRecord = { id: '', userMessages: [], agentMessages: [], status: 'completed' };
  for (const request of requests) {
    if (request.kind === 'message' && request.reply !== undefined) {
      turn.userMessages = [request.lastUser ?? ''];
      turn.agentMessages.push(request.reply);
    }
  }
  ctx.state.book.addExternalTurn(id, turn);
  ctx.log(`  ${run.key} = ${id}`);
}

function runProcess(
  binary: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The interactive TUI needs a terminal: `script` (util-linux) gives it a pseudo-terminal.
 * The prompt is passed on the command line; once the model answered and the rollout holds
 * the finished turn, two Ctrl+C quit it.
 */
async function runTui(
  ctx: RecorderContext,
  binary: string,
  run: Extract<Run, { kind: 'exec' | 'tui' }>,
  cwd: string,
): Promise<{ code: number | null; output: string; skipped?: string }> {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
  } catch {
    return { code: null, output: '', skipped: 'no `script` command for a pseudo-terminal' };
  }
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  const trust = `projects.${JSON.stringify(cwd)}.trust_level="trusted"`;
  const command = `stty cols 120 rows 40; exec ${quote(binary)} -c ${quote(trust)} ${quote(run.prompt)}`;
  ctx.record(run.label, 'process', {
    event: 'spawn',
    argv: ['script', '-qfec', `codex -c ${trust} ${JSON.stringify(run.prompt)}`, '/dev/null'],
  });
  const env = { ...ctx.env(run.tz), TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' };
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-20_000);
    // Answer the terminal queries the TUI sends at startup (cursor position, attributes).
    if (text.includes('\u001b[6n')) child.stdin.write('\u001b[1;1R');
    if (text.includes('\u001b[c')) child.stdin.write('\u001b[?62;c');
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const before = ctx.state.modelRequests.length;
  const deadline = Date.now() + 45_000;
  let threadId: string | undefined;
  let finished = false;
  let lastPoke = Date.now();
  while (Date.now() < deadline && !finished) {
    await sleep(100);
    const served = ctx.state.modelRequests
      .slice(before)
      .find((r) => r.status === 200 && r.lastUser === run.prompt);
    threadId = served?.threadId;
    if (threadId) finished = rolloutHasCompletedTurn(ctx, threadId);
    // 0.131 opens with a welcome screen that waits for Enter before it sends the prompt.
    if (!threadId && Date.now() - lastPoke > 3_000 && child.exitCode === null) {
      child.stdin.write('\r');
      lastPoke = Date.now();
    }
  }
  if (finished) await sleep(300);
  for (const key of ['\u0003', '\u0003']) {
    if (child.exitCode !== null) break;
    child.stdin.write(key);
    await sleep(400);
  }
  const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
  const hard = setTimeout(() => child.kill('SIGKILL'), 8_000);
  const code = await exited;
  clearTimeout(timer);
  clearTimeout(hard);
  if (!finished) return { code, output, skipped: 'the TUI did not finish a turn in 45 s' };
  return { code, output };
}

function rolloutHasCompletedTurn(ctx: RecorderContext, threadId: string): boolean {
  const sessions = join(ctx.state.codexHome, 'sessions');
  if (!existsSync(sessions)) return false;
  const stack = [sessions];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.name.endsWith(`${threadId}.jsonl`)) {
        return readFileSync(path, 'utf8').includes('"task_complete"');
      }
    }
  }
  return false;
}
