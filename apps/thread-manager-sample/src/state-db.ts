/**
 * Builds the state handle for a Codex home, once per process, with `initStateDb`: open and
 * migrate `skein_state_<v>.sqlite` (never Codex's own `state_N.sqlite`), and import the home's
 * existing rollouts (backfill, under the lease) so listing sees them.
 */
import { initStateDb } from '@skein/rollout';
import type { StateDb } from '@skein/state';

export async function openStateDb(codexHome: string, defaultProvider: string): Promise<StateDb> {
  return initStateDb({ codexHome, defaultProvider });
}
