/** The homes a differential run can use: a fixture by name, or any Codex home directory. */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  FIXTURE_NAMES,
  type FixtureName,
  installFixtureHome,
  installHomeCopy,
} from '@skein/test-support';

export interface HomeSource {
  name: string;
  /** A fresh copy of the home (a temp dir the caller removes). */
  install(): string;
}

/** A home, optionally with a config.toml written into every copy (it replaces the home's own). */
export function homeSource(spec: string, configToml?: string): HomeSource {
  const source = plainHomeSource(spec);
  if (configToml === undefined) return source;
  return {
    name: `${source.name} + config.toml`,
    install: () => {
      const home = source.install();
      writeFileSync(join(home, 'config.toml'), configToml);
      return home;
    },
  };
}

function plainHomeSource(spec: string): HomeSource {
  if ((FIXTURE_NAMES as readonly string[]).includes(spec)) {
    return { name: spec, install: () => installFixtureHome(spec as FixtureName).home };
  }
  // `pnpm diff:report` runs in this package's folder; a relative dir means the caller's.
  const dir = resolve(process.env.INIT_CWD ?? process.cwd(), spec);
  if (!existsSync(dir)) {
    throw new Error(`no such home: ${spec} (a fixture name ${FIXTURE_NAMES.join(', ')} or a dir)`);
  }
  return { name: dir, install: () => installHomeCopy(dir) };
}
