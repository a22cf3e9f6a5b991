import * as z from 'zod';

/** A thread-spawn sub-agent's facts, in the on-disk (snake_case) encoding. */
export interface ThreadSpawnSource {
  parent_thread_id: string;
  depth: number;
  agent_path?: string | null | undefined;
  agent_nickname?: string | null | undefined;
  agent_role?: string | null | undefined;
}

/**
 * What kind of sub-agent a thread is: review, compact, memory consolidation, a spawned agent (with
 * its parent and depth), or another.
 */
export type SubAgentSource =
  | 'review'
  | 'compact'
  | 'memory_consolidation'
  | { other: string }
  | { thread_spawn: ThreadSpawnSource };

/**
 * The runtime source of a session, in Codex's JSON encoding: unit variants are plain strings,
 * data variants single-key objects (`{"custom":"atlas"}`, `{"subagent":"review"}`, ...).
 */
export type SessionSource =
  | 'cli'
  | 'vscode'
  | 'exec'
  | 'mcp'
  | 'unknown'
  | { custom: string }
  | { internal: string }
  | { subagent: SubAgentSource };

/**
 * A session source as a rollout line may hold it before it is checked: a bare kind or any
 * object. `encodeSessionSource` takes it as it is; `decodeSessionSource` gives a `SessionSource`.
 */
export type SessionSourceJson = string | { readonly [key: string]: unknown };

/** The unit variants; any other bare string encodes (and decodes) as `unknown`. */
export const UNIT_SESSION_SOURCES: ReadonlySet<string> = new Set([
  'cli',
  'vscode',
  'exec',
  'mcp',
  'unknown',
]);

/** Codex's default when a `session_meta` names no `source`. */
export const DEFAULT_SESSION_SOURCE = 'vscode';

/**
 * A source as Codex stores it in the `threads.source` column (both dialects): a unit variant as
 * its bare string, a data variant as compact JSON; none = Codex's default, `vscode`.
 */
export function encodeSessionSource(
  source: SessionSource | SessionSourceJson | null | undefined,
): string {
  if (source === undefined || source === null) return DEFAULT_SESSION_SOURCE;
  if (typeof source === 'string') return UNIT_SESSION_SOURCES.has(source) ? source : 'unknown';
  return JSON.stringify(source);
}

/** Decodes the column encoding back into a `SessionSource` (anything unreadable: `unknown`). */
export function decodeSessionSource(encoded: string): SessionSource {
  if (encoded.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(encoded);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        return value as SessionSource;
      }
    } catch {
      // Not JSON: an unknown source.
    }
  }
  return UNIT_SESSION_SOURCES.has(encoded) ? (encoded as SessionSource) : 'unknown';
}

const subAgentSourceSchema = z.union([
  z.enum(['review', 'compact', 'memory_consolidation']),
  z.object({ other: z.string() }),
  z.object({
    thread_spawn: z.object({
      parent_thread_id: z.string(),
      depth: z.number().int(),
      agent_path: z.string().nullish(),
      agent_nickname: z.string().nullish(),
      agent_role: z.string().nullish(),
    }),
  }),
]) satisfies z.ZodType<SubAgentSource>;

/** Zod schema of `SessionSource`: validates one where it enters (a wire, a file, a config). */
export const sessionSourceSchema = z.union([
  z.enum(['cli', 'vscode', 'exec', 'mcp', 'unknown']),
  z.object({ custom: z.string() }),
  z.object({ internal: z.string() }),
  z.object({ subagent: subAgentSourceSchema }),
]) satisfies z.ZodType<SessionSource>;
