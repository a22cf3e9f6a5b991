/** Shared steps and assertions of the both-ways tests. */
import { expect } from 'vitest';
import { migrationVersions } from '../../../../../packages/test-support/test/support/codex-db.js';
import { type HomeKind, installHome, type TestHome } from './homes.js';
import type { CodexVersion, Peer, WireGitInfo } from './peers.js';

/** Runs `body` on a fresh copy of a home and removes it afterwards. */
export async function onHome<T>(
  kind: HomeKind,
  body: (home: TestHome) => Promise<T>,
  options: { modelPort?: number } = {},
): Promise<T> {
  const home = installHome(kind, options);
  try {
    return await body(home);
  } finally {
    home.remove();
  }
}

/** Starts a peer, runs `body` with it, and always closes it. */
export async function using<T>(start: Promise<Peer>, body: (peer: Peer) => Promise<T>): Promise<T> {
  const peer = await start;
  try {
    return await body(peer);
  } finally {
    await peer.close();
  }
}

/** `gitInfo` as a value to compare: an object of three nulls is no git info. */
export function gitOf(info: WireGitInfo | null | undefined): WireGitInfo | null {
  if (info == null) return null;
  const value = {
    sha: info.sha ?? null,
    branch: info.branch ?? null,
    originUrl: info.originUrl ?? null,
  };
  return value.sha === null && value.branch === null && value.originUrl === null ? null : value;
}

/** The migrations each Codex version leaves in `state_5.sqlite` (1..32 and 1..62). */
export function codexMigrations(version: CodexVersion): number[] {
  const count = version === '0.169.0' ? 62 : 32;
  return Array.from({ length: count }, (_, i) => i + 1);
}

/**
 * What every test ends with: the processes reported no storage trouble on stderr (locked DB,
 * failed migration), and the DB holds exactly the migrations of the newest Codex that opened it
 * (Skein never adds or removes any).
 */
export function expectHealthyHome(home: TestHome, newestCodex: CodexVersion, peers: Peer[]): void {
  for (const peer of peers) expect.soft(peer.storageTrouble(), peer.label).toEqual([]);
  expect.soft(migrationVersions(home.home)).toEqual(codexMigrations(newestCodex));
}

/** The error text of a refused request (fails the test when it was accepted). */
export function refusal(outcome: { ok: true } | { ok: false; error: string }): string {
  return outcome.ok ? '(accepted)' : outcome.error;
}
