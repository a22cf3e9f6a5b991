import type { SessionSource } from '@skein/thread-store';
import type { ThreadSourceKind } from './vocabulary.js';

/**
 * Does a stored source belong to a `thread/list` source kind (spec §2.5)? `appServer` is the
 * stored `mcp`; the `subAgent*` kinds split sub-agent sources by what spawned them.
 */
export function sourceMatchesKind(source: SessionSource, kind: ThreadSourceKind): boolean {
  switch (kind) {
    case 'cli':
    case 'vscode':
    case 'exec':
    case 'unknown':
      return source === kind;
    case 'appServer':
      return source === 'mcp';
    default:
      break;
  }
  if (typeof source !== 'object' || !('subagent' in source)) return false;
  const sub = source.subagent;
  switch (kind) {
    case 'subAgent':
      return true;
    case 'subAgentReview':
      return sub === 'review';
    case 'subAgentCompact':
      return sub === 'compact';
    case 'subAgentThreadSpawn':
      return typeof sub === 'object' && 'thread_spawn' in sub;
    case 'subAgentOther':
      return sub === 'memory_consolidation' || (typeof sub === 'object' && 'other' in sub);
  }
}
