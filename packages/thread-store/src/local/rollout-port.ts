import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { ThreadId } from '@skein/protocol';
import {
  appendRolloutItems,
  appendSessionIndexEntry,
  eventUserMessage,
  extractThreadMetadataFromFile,
  type FileMetadataResult,
  findThreadPathWithDb,
  plainRolloutPath,
  type RolloutItem,
  readThreadHistory,
  reconcileRolloutFile,
  removeSessionIndexEntries,
  resolveRolloutFile,
  type SessionMetaLine,
  streamRollout,
} from '@skein/rollout';
import type { StateDb, ThreadMetadata } from '@skein/state';
import { ThreadStoreError } from '../errors.js';
import { messageOf } from './rollout-scope.js';

/** Appends one item as a line to an existing rollout (for threads without a live writer). */
export async function appendRolloutItemToPath(path: string, item: RolloutItem): Promise<void> {
  await appendRolloutItems(path, [item]);
}

/** The file's own (first) `session_meta`, or null. */
export async function readFirstSessionMeta(path: string): Promise<SessionMetaLine | null> {
  let meta: SessionMetaLine | null = null;
  await streamRollout(path, (line) => {
    if (line.type === 'session_meta') {
      meta = line.payload;
      return false;
    }
    return true;
  });
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Session name index (`session_index.jsonl`, the rollout package's implementation)

/** Appends a name entry (one write, fsynced; the newest entry wins on lookup). */
export async function appendThreadName(
  codexHome: string,
  threadId: string,
  name: string,
): Promise<void> {
  await mkdir(codexHome, { recursive: true });
  await appendSessionIndexEntry(codexHome, threadId, name);
}

/** Rewrites the index without any entry for `threadId`. */
export async function removeThreadNameEntries(codexHome: string, threadId: string): Promise<void> {
  await removeSessionIndexEntries(codexHome, threadId);
}

// ---------------------------------------------------------------------------------------------
// Find by id

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the rollout at `path` (plain or `.zst`) belongs to `threadId` by its own meta. */
export async function rolloutBelongsTo(path: string, threadId: string): Promise<boolean> {
  const file = await resolveRolloutFile(path);
  if (file === null) return false;
  try {
    const meta = await readFirstSessionMeta(file);
    return meta !== null && meta.id.toLowerCase() === threadId.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The rollout of a thread in the active (`sessions/`) or archived collection, through the
 * rollout package's DB-first lookup: a state DB row is accepted when its file's own meta names
 * the thread; otherwise a file-name search, and the row is repaired to what was found.
 * Returns the logical plain path.
 */
export async function findRolloutPath(
  codexHome: string,
  threadId: ThreadId,
  archived: boolean,
  stateDb: StateDb | undefined,
): Promise<string | null> {
  const found = await findThreadPathWithDb(codexHome, threadId, { archived, stateDb });
  return found === null ? null : plainRolloutPath(found);
}

/** Where an operation looks a thread's rollout up: the home and its state DB. */
export interface RolloutLookupHost {
  codexHome: string;
  stateDb: StateDb | undefined;
}

/**
 * `findRolloutPath` for an operation: a lookup that fails (an unreadable folder, a broken DB)
 * is the caller's InvalidRequest naming the thread; null when the collection has none.
 */
export async function lookupRolloutPath(
  host: RolloutLookupHost,
  threadId: ThreadId,
  archived: boolean,
): Promise<string | null> {
  try {
    return await findRolloutPath(host.codexHome, threadId, archived, host.stateDb);
  } catch (error) {
    const what = archived ? 'archived thread id' : 'thread id';
    throw ThreadStoreError.invalidRequest(
      `failed to locate ${what} ${threadId}: ${messageOf(error)}`,
    );
  }
}

/**
 * The thread's rollout in the active collection, else (when `includeArchived`) the archived
 * one; InvalidRequest with `notFound` when neither has it.
 */
export async function requireRolloutPath(
  host: RolloutLookupHost,
  threadId: ThreadId,
  options: { archived: boolean; includeArchived?: boolean; notFound: string },
): Promise<string> {
  let found = await lookupRolloutPath(host, threadId, options.archived);
  if (found === null && !options.archived && options.includeArchived === true) {
    found = await lookupRolloutPath(host, threadId, true);
  }
  if (found === null) throw ThreadStoreError.invalidRequest(options.notFound);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Reconcile (state DB row from the rollout)

/**
 * Metadata of one rollout. With `codexHome`, a 0.169 fork by reference (whose history starts
 * with its base thread's lines) takes its first user message, preview and title from the base.
 */
export async function readRolloutMetadata(
  path: string,
  defaultProvider: string,
  archived: boolean,
  codexHome?: string,
): Promise<FileMetadataResult> {
  const file = (await resolveRolloutFile(path)) ?? path;
  const extracted = await extractThreadMetadataFromFile(file, {
    defaultProvider,
    archived,
    rolloutPath: plainRolloutPath(path),
  });
  if (extracted.historyBase !== null && codexHome !== undefined) {
    await applyInheritedPreview(codexHome, extracted.metadata, file);
  }
  return extracted;
}

async function applyInheritedPreview(
  codexHome: string,
  metadata: ThreadMetadata,
  file: string,
): Promise<void> {
  try {
    const history = await readThreadHistory(codexHome, file);
    for (const line of history.inheritedLines) {
      if (line.type !== 'event_msg') continue;
      const user = eventUserMessage(line.payload);
      if (user === null || user.preview === null) continue;
      metadata.preview = user.preview;
      metadata.firstUserMessage = user.preview;
      if (user.text !== '') metadata.title = user.text;
      return;
    }
  } catch {
    // A missing or unreadable base leaves the fork's own facts.
  }
}

/**
 * Re-derives the thread's row from its rollout (the rollout package's reconcile: existing git
 * and explicit titles kept, memory mode from the rollout, index name if the row has none).
 */
export async function reconcileRollout(
  stateDb: StateDb,
  path: string,
  archived: boolean,
  defaultProvider: string,
  codexHome?: string,
): Promise<ThreadMetadata | null> {
  return reconcileRolloutFile(stateDb, path, {
    archived,
    defaultProvider,
    ...(codexHome === undefined ? {} : { codexHome }),
  });
}
