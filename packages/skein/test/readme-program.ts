/**
 * The program of packages/skein/README.md, run as a user would: the code block after the
 * `readme-program` marker, saved as `program.mjs` in a project directory whose `node_modules/skein`
 * is this package (its built `dist/`), and started with `node` there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The README's program, exactly as printed there. */
export function readmeProgram(): string {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
  const match = /<!-- readme-program[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no readme-program block');
  return match[1];
}

export interface ProgramRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Writes the program into `projectDir` and runs it there (the home is `./codex-home`). */
export function runReadmeProgram(projectDir: string): ProgramRun {
  if (!existsSync(join(PACKAGE_DIR, 'dist', 'index.js'))) {
    throw new Error(`${PACKAGE_DIR}dist is missing: run pnpm build first`);
  }
  mkdirSync(join(projectDir, 'node_modules'), { recursive: true });
  if (!existsSync(join(projectDir, 'node_modules', 'skein'))) {
    symlinkSync(PACKAGE_DIR, join(projectDir, 'node_modules', 'skein'), 'dir');
  }
  writeFileSync(join(projectDir, 'program.mjs'), readmeProgram());
  const run = spawnSync(process.execPath, ['program.mjs'], {
    cwd: projectDir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: projectDir },
  });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
