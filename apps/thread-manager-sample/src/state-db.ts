/**
 * Builds the state handle for a Codex home, once per process, with `initStateDb`: open Codex's
 * own `state_5.sqlite` as a peer (created from a recorded Codex schema when the home has none;
 * Skein's own bookkeeping goes to `skein_1.sqlite` beside it), and import the home's rollouts
 * no index knows yet (backfill, under Codex's lease) so listing sees them.
 */
import { initStateDb } from '@skein/rollout';
import type { StateDb } from '@skein/state';

export async function openStateDb(codexHome: string, defaultProvider: string): Promise<StateDb> {
  return initStateDb({ codexHome, defaultProvider });
}
