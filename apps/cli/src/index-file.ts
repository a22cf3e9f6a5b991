import { extractThreadMetadataFromFile } from '@skein/rollout';
import { type StateDb, upsertThread } from '@skein/state';

/**
 * Puts one rollout file's thread into the state index (import, doctor --repair): metadata
 * extracted from the file by the rollout package, written with the state package's upsert
 * (which keeps names and explicit metadata, and records the spawn edge of a sub-agent).
 */
export async function indexRolloutFile(
  stateDb: StateDb,
  file: string,
  options: { archived: boolean; rolloutPath?: string },
): Promise<void> {
  const extracted = await extractThreadMetadataFromFile(file, {
    defaultProvider: stateDb.defaultProvider,
    archived: options.archived,
    ...(options.rolloutPath !== undefined ? { rolloutPath: options.rolloutPath } : {}),
  });
  await upsertThread(stateDb.ctx, extracted.metadata);
}
