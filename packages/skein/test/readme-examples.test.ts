/**
 * Every package README's example marked `runnable-example` runs as printed: saved in a project
 * whose `node_modules` holds the workspace's packages (their built `dist/`), on a copy of a real
 * Codex 0.169 home at `./codex-home` (also `CODEX_HOME`), and with `DATABASE_URL` pointing at
 * a fresh PostgreSQL database for the examples that ask for one.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  installFixtureHome,
  makeTempDir,
  type PostgresServer,
  removeTempDir,
  startPostgres,
} from '@skein/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Example {
  readme: string;
  code: string;
  needsDatabase: boolean;
}

function workspacePackages(): Map<string, string> {
  const packages = new Map<string, string>();
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      const manifest = join(ROOT, group, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
      packages.set(name, join(ROOT, group, entry.name));
    }
  }
  return packages;
}

function examples(): Example[] {
  const found: Example[] = [];
  for (const dir of workspacePackages().values()) {
    const readme = join(dir, 'README.md');
    if (!existsSync(readme)) continue;
    const text = readFileSync(readme, 'utf8');
    for (const match of text.matchAll(/<!-- runnable-example([^>]*)-->\s*```js\n([\s\S]*?)```/g)) {
      found.push({
        readme: readme.slice(ROOT.length),
        code: match[2] ?? '',
        needsDatabase: (match[1] ?? '').includes('DATABASE_URL'),
      });
    }
  }
  return found;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

let postgres: PostgresServer | undefined;

describe('README examples', () => {
  const all = examples();

  it('there are examples for the main packages', () => {
    const readmes = new Set(all.map((example) => example.readme));
    for (const pkg of [
      'thread-store',
      'thread-manager',
      'app-server-protocol',
      'thread-store-remote',
      'thread-store-postgres',
      'state',
      'rollout',
    ]) {
      expect(readmes, pkg).toContain(`packages/${pkg}/README.md`);
    }
  });

  it.each(all.map((example) => [example.readme, example] as const))(
    '%s',
    async (_name, example) => {
      const project = makeTempDir('skein-readme-example-');
      cleanup.push(() => removeTempDir(project));
      for (const [name, dir] of workspacePackages()) {
        const link = join(project, 'node_modules', name);
        mkdirSync(join(link, '..'), { recursive: true });
        symlinkSync(dir, link, 'dir');
      }
      installFixtureHome('codex-0.169', join(project, 'codex-home'));
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: project,
        CODEX_HOME: join(project, 'codex-home'),
      };
      if (example.needsDatabase) {
        if (postgres === undefined) {
          postgres = await startPostgres();
          const server = postgres;
          cleanup.push(() => server.stop());
        }
        env.DATABASE_URL = await postgres.createDatabase();
      }
      writeFileSync(join(project, 'example.mjs'), example.code);
      const run = spawnSync(process.execPath, ['example.mjs'], {
        cwd: project,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).not.toBe('');
    },
    120_000,
  );
});
