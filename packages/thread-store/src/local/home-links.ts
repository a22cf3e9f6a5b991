import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { realPathInHome, resolveRolloutFile } from '@skein/rollout';

/*
 * The home's boundary for links (`realPathInHome`): a rollout that is a symlink, or lies under
 * a linked folder, and leads out of the Codex home is never followed — nothing outside the home
 * a process was given is read or written through it (`skein doctor` reports it as
 * `link-outside-home`). The home's linked `sessions` and `archived_sessions` folders are in it.
 */

/**
 * Where the rollout at `path` (plain or its `.zst`) really is, when that is outside `home`;
 * null when it is inside, or does not exist (a dangling link reads as a missing file).
 */
export async function rolloutLinkOutsideHome(home: string, path: string): Promise<string | null> {
  const file = (await resolveRolloutFile(path)) ?? path;
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return null;
  }
  return realPathInHome(home, real) ? null : real;
}

/** The message of a refusal to follow such a link. */
export function linkOutsideHomeMessage(home: string, path: string, target: string): string {
  return `rollout ${path} leads to ${target}, outside the home ${resolve(home)}; links out of the home are never followed`;
}
