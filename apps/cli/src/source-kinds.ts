import { THREAD_SOURCE_KINDS, type ThreadSourceKind } from '@skein/app-server-protocol';
import type { SessionSource } from '@skein/thread-store';

/**
 * `thread/list` source-kind filtering (spec manager-appserver §2.5), the same way the
 * app-server does it: no kinds means interactive threads only; kinds that map one-to-one to a
 * stored source are passed to the store; the others list every source and filter afterwards.
 */
export const SOURCE_KINDS = THREAD_SOURCE_KINDS;

export type SourceKind = ThreadSourceKind;

export function isSourceKind(value: string): value is SourceKind {
  return (SOURCE_KINDS as readonly string[]).includes(value);
}

/** Codex's INTERACTIVE_SESSION_SOURCES: what a list shows when no kind is asked for. */
export const INTERACTIVE_SOURCES: readonly SessionSource[] = [
  'cli',
  'vscode',
  { custom: 'atlas' },
  { custom: 'chatgpt' },
];

export interface SourceFilter {
  /** Passed to the store as `allowedSources` (empty = every source). */
  allowedSources: readonly SessionSource[];
  /** When set, keep only threads whose source matches one of these kinds. */
  postFilter: readonly SourceKind[] | null;
}

/** `kinds` null = the default (interactive); `'any'` = every source, no filtering at all. */
export function sourceFilterFor(kinds: readonly SourceKind[] | 'any' | null): SourceFilter {
  if (kinds === 'any') return { allowedSources: [], postFilter: null };
  if (kinds === null || kinds.length === 0) {
    return { allowedSources: INTERACTIVE_SOURCES, postFilter: null };
  }
  const direct = kinds.every((kind) => kind === 'cli' || kind === 'vscode');
  if (direct) return { allowedSources: [...new Set(kinds)], postFilter: null };
  return { allowedSources: [], postFilter: kinds };
}
