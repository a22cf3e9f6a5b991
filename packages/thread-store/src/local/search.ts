/**
 * Content search over one rollout (spec rollout-state §4.9, thread-store §4.9) with the shared
 * rule of `../search-text.ts`: the first line whose visible conversation contains the term
 * gives the snippet. Files are streamed, never read whole into one string.
 */
import { streamRollout } from '@skein/rollout';
import { recordSnippet } from '../search-text.js';

/** The snippet of the first visible match in a rollout, or null when it does not match. */
export async function searchRolloutFile(path: string, term: string): Promise<string | null> {
  let snippet: string | null = null;
  await streamRollout(path, (line) => {
    snippet = recordSnippet(line, term);
    return snippet === null;
  });
  return snippet;
}
