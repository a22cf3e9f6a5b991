/** The homes a differential run can use: a fixture by name, or any Codex home directory. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
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

export function homeSource(spec: string): HomeSource {
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
