/**
 * Builds the state handle for a Codex home, once per process. This is the one place the sample
 * opens SQLite: `skein_state_<v>.sqlite` in the home (never Codex's own `state_N.sqlite`).
 */
import { type StateDb, StateRuntime } from '@skein/state';

export async function openStateDb(codexHome: string, defaultProvider: string): Promise<StateDb> {
  return StateRuntime.open({ sqliteHome: codexHome, defaultProvider });
}
