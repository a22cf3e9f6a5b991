/**
 * What `skein` does on a terminal: `show` pages long output through `PAGER` (and only there:
 * never into a pipe, never with `--no-pager` or `PAGER=cat`), and `skein completion` prints
 * completion scripts that a shell can load and that complete commands, options and values.
 * Terminals are real pseudo-terminals (util-linux `script`), completions run in real bash.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@skein/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixture, skein, thread } from './helpers.js';

const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let home: string;
let id: string;
let firstMessage: string;
let work: string;

beforeAll(() => {
  const installed = fixture('codex-0.169');
  home = installed.home;
  const multi = thread(installed.manifest, 'multiTurn');
  id = multi.id;
  firstMessage = multi.userMessages[0]!;
  work = makeTempDir('skein-terminal-');
});

afterAll(() => removeTempDir(work));

/** `skein show` on a pseudo-terminal of `rows` lines, with `env` added. */
function showOnTty(args: string[], env: NodeJS.ProcessEnv, rows = 10) {
  const command = [process.execPath, CLI, '--codex-home', home, 'show', id, ...args]
    .map(quoted)
    .join(' ');
  const run = spawnSync('script', ['-qec', `stty rows ${rows} cols 100; ${command}`, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  return { code: run.status ?? -1, stdout: run.stdout };
}

describe('show pages long output on a terminal', () => {
  it('through PAGER when the output is longer than the screen', () => {
    const paged = join(work, 'paged.txt');
    const result = showOnTty([], { PAGER: `cat > ${quoted(paged)}; echo PAGER-RAN` });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('PAGER-RAN');
    expect(result.stdout).not.toContain(firstMessage);
    const text = readFileSync(paged, 'utf8');
    expect(text).toContain(id);
    expect(text).toContain(firstMessage);
  });

  it('SKEIN_PAGER wins over PAGER; --no-pager and PAGER=cat print straight', () => {
    const skeinPaged = join(work, 'skein-paged.txt');
    const viaSkein = showOnTty([], {
      PAGER: 'false',
      SKEIN_PAGER: `cat > ${quoted(skeinPaged)}`,
    });
    expect(viaSkein.code).toBe(0);
    expect(readFileSync(skeinPaged, 'utf8')).toContain(firstMessage);

    const marker = join(work, 'never.txt');
    const noPager = showOnTty(['--no-pager'], { PAGER: `touch ${quoted(marker)}` });
    expect(noPager.stdout).toContain(firstMessage);
    const cat = showOnTty([], { PAGER: 'cat' });
    expect(cat.stdout).toContain(firstMessage);
    expect(existsSync(marker)).toBe(false);
  });

  it('not when the output fits the screen', () => {
    const marker = join(work, 'fits.txt');
    const result = showOnTty(['--metadata-only'], { PAGER: `touch ${quoted(marker)}` }, 200);
    expect(result.stdout).toContain(id);
    expect(existsSync(marker)).toBe(false);
  });

  it('never into a pipe', () => {
    const marker = join(work, 'piped.txt');
    const run = spawnSync(process.execPath, [CLI, '--codex-home', home, 'show', id], {
      env: { ...process.env, NO_COLOR: '1', PAGER: `touch ${quoted(marker)}` },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(firstMessage);
    expect(existsSync(marker)).toBe(false);
  });
});

/** What bash's completion function answers for the words typed so far (`cur` last). */
function bashComplete(script: string, line: string): string[] {
  const file = join(work, 'skein.bash');
  writeFileSync(file, script);
  const run = spawnSync(
    'bash',
    [
      '-c',
      `source ${quoted(file)}
read -ra COMP_WORDS <<< "$1"
[[ "$1" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_skein_completion
printf '%s\\n' "\${COMPREPLY[@]}"`,
      '_',
      line,
    ],
    { encoding: 'utf8' },
  );
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((word) => word !== '');
}

describe('skein completion', () => {
  it('bash: completes commands, their options, and option values', async () => {
    const result = await skein(['completion', 'bash']);
    expect(result.code).toBe(0);
    const script = result.stdout;
    expect(bashComplete(script, 'skein li')).toEqual(['list']);
    expect(bashComplete(script, 'skein ')).toEqual(
      expect.arrayContaining(['list', 'show', 'search', 'doctor', 'completion', '--codex-home']),
    );
    expect(bashComplete(script, 'skein list --so')).toEqual(['--source', '--sort']);
    expect(bashComplete(script, 'skein list --sort ')).toEqual(['created', 'updated', 'recency']);
    expect(bashComplete(script, 'skein --codex-home /tmp list --source subAgentT')).toEqual([
      'subAgentThreadSpawn',
    ]);
    expect(bashComplete(script, 'skein show --no')).toEqual(['--no-pager']);
    expect(bashComplete(script, 'skein debug ')).toContain('prompt-input');
    expect(bashComplete(script, 'skein completion ')).toEqual(
      expect.arrayContaining(['bash', 'zsh', 'fish']),
    );
  });

  it('zsh and fish: scripts their shells load (checked by the shell where it is installed)', async () => {
    const zsh = await skein(['completion', 'zsh']);
    const fish = await skein(['completion', 'fish']);
    expect(zsh.code).toBe(0);
    expect(fish.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef skein\n/);
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -F _skein_completion skein');
    for (const command of ['list', 'show', 'search', 'rename', 'doctor', 'completion']) {
      expect(fish.stdout).toContain(`-n '__fish_use_subcommand' -a ${command} -d `);
    }
    expect(fish.stdout).toContain(
      "complete -c skein -n '__fish_seen_subcommand_from list ls' -l sort -x -a 'created updated recency'",
    );
    for (const [shell, text, args] of [
      ['zsh', zsh.stdout, ['-n']],
      ['fish', fish.stdout, ['--no-execute']],
    ] as const) {
      const file = join(work, `skein.${shell}`);
      writeFileSync(file, text);
      const check = spawnSync(shell, [...args, file], { encoding: 'utf8' });
      if (check.error) continue; // that shell is not installed here
      expect(check.status, `${shell}: ${check.stderr}`).toBe(0);
    }
  });

  it('refuses an unknown shell', async () => {
    const result = await skein(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown shell "tcsh" (expected bash, zsh, fish)');
  });
});
