import type { ThreadId } from '@skein/thread-store';
import { CliError } from './errors.js';

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_PREFIX = /^[0-9a-f][0-9a-f-]{3,35}$/i;

export interface ThreadLookups {
  byId(id: ThreadId): Promise<ThreadId | null>;
  byName(name: string): Promise<ThreadId | null>;
  byPrefix(prefix: string): Promise<ThreadId[]>;
}

/**
 * How a person names a thread on the command line: a full id, a thread name (latest rename
 * wins, as in Codex), or an id prefix of at least 4 characters that matches one thread.
 */
export async function resolveThreadRef(ref: string, lookups: ThreadLookups): Promise<ThreadId> {
  const trimmed = ref.trim();
  if (trimmed === '') throw CliError.usage('empty thread reference');
  if (FULL_ID.test(trimmed)) {
    const id = trimmed.toLowerCase() as ThreadId;
    const found = await lookups.byId(id);
    if (found) return found;
    throw CliError.notFound(`no thread with id ${id}`);
  }
  const named = await lookups.byName(trimmed);
  if (named) return named;
  if (ID_PREFIX.test(trimmed)) {
    const matches = await lookups.byPrefix(trimmed.toLowerCase());
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw CliError.usage(
        `"${trimmed}" matches ${matches.length} threads; give more of the id`,
        matches.slice(0, 10),
      );
    }
  }
  throw CliError.notFound(`no thread with id, id prefix or name "${trimmed}"`);
}
