/**
 * What a Codex home holds, read straight from its files (rollouts and `session_index.jsonl`),
 * with no help from the code under test: the threads, their relations, texts and cwds, which
 * drive the request generator, and every id-like string in the home, which the comparator
 * keeps as it is (only ids a server made up during the run are renumbered).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as z from 'zod';

export interface SurveyedThread {
  id: string;
  /** Path relative to the home. */
  file: string;
  archived: boolean;
  cwd: string;
  modelProvider: string;
  /** The source kind `thread/list`'s `sourceKinds` filter speaks of. */
  sourceKind: string;
  historyMode: 'legacy' | 'paginated';
  forkedFromId: string | null;
  parentThreadId: string | null;
  /** User message texts in order (the first one is the thread's title). */
  userMessages: string[];
  turnIds: string[];
  /** The latest name in `session_index.jsonl`, if any. */
  name: string | null;
}

export interface HomeSurvey {
  home: string;
  threads: SurveyedThread[];
  /** Every UUID-shaped string found in any file of the home. */
  knownIds: ReadonlySet<string>;
}

export const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

const sessionMetaSchema = z
  .object({
    id: z.string(),
    cwd: z.string().default(''),
    model_provider: z.string().nullish(),
    source: z.unknown().optional(),
    forked_from_id: z.string().nullish(),
    parent_thread_id: z.string().nullish(),
    history_mode: z.string().nullish(),
  })
  .passthrough();

const lineSchema = z.object({ type: z.string(), payload: z.unknown() }).passthrough();

function walk(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) walk(path, out);
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

/** `thread/list` source kind of a rollout `source` value (disk spelling). */
function sourceKindOf(source: unknown): string {
  if (typeof source === 'string') {
    if (source === 'mcp') return 'appServer';
    return ['cli', 'vscode', 'exec'].includes(source) ? source : 'unknown';
  }
  if (typeof source === 'object' && source !== null && 'subagent' in source) {
    const sub = (source as { subagent: unknown }).subagent;
    if (sub === 'review') return 'subAgentReview';
    if (sub === 'compact') return 'subAgentCompact';
    if (typeof sub === 'object' && sub !== null && 'thread_spawn' in sub)
      return 'subAgentThreadSpawn';
    return 'subAgentOther';
  }
  return 'unknown';
}

function spawnParentOf(source: unknown): string | null {
  const sub = (source as { subagent?: { thread_spawn?: { parent_thread_id?: unknown } } })
    ?.subagent;
  const parent =
    typeof sub === 'object' && sub !== null ? sub.thread_spawn?.parent_thread_id : null;
  return typeof parent === 'string' ? parent : null;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function surveyRollout(home: string, path: string): SurveyedThread | null {
  const lines = readFileSync(path, 'utf8').split('\n');
  let meta: z.infer<typeof sessionMetaSchema> | null = null;
  const userMessages: string[] = [];
  const turnIds: string[] = [];
  let paginated = false;
  for (const text of lines) {
    if (text.trim() === '') continue;
    let parsed: z.infer<typeof lineSchema>;
    try {
      parsed = lineSchema.parse(JSON.parse(text));
    } catch {
      continue;
    }
    const payload = record(parsed.payload);
    if (parsed.type === 'session_meta') {
      // A copied (0.131) fork repeats its source's session_meta: the first one wins.
      if (meta === null) meta = sessionMetaSchema.parse(payload);
      continue;
    }
    if (parsed.type !== 'event_msg') continue;
    if (payload.type === 'task_started' || payload.type === 'turn_started') {
      if (typeof payload.turn_id === 'string' && !turnIds.includes(payload.turn_id))
        turnIds.push(payload.turn_id);
    } else if (payload.type === 'user_message' && typeof payload.message === 'string') {
      userMessages.push(payload.message);
    } else if (payload.type === 'item_completed') {
      paginated = true;
      const item = record(payload.item);
      if (item.type !== 'UserMessage' || !Array.isArray(item.content)) continue;
      const text = item.content
        .map((part) => record(part))
        .filter((part) => part.type === 'text' && typeof part.text === 'string')
        .map((part) => part.text as string)
        .join('');
      userMessages.push(text);
    }
  }
  if (meta === null) return null;
  const rel = relative(home, path);
  return {
    id: meta.id,
    file: rel,
    archived: rel.startsWith('archived_sessions'),
    cwd: meta.cwd,
    modelProvider: meta.model_provider ?? '',
    sourceKind: sourceKindOf(meta.source),
    historyMode: meta.history_mode === 'paginated' || paginated ? 'paginated' : 'legacy',
    forkedFromId: meta.forked_from_id ?? null,
    parentThreadId: meta.parent_thread_id ?? spawnParentOf(meta.source),
    userMessages,
    turnIds,
    name: null,
  };
}

function latestNames(home: string): Map<string, string | null> {
  const names = new Map<string, string | null>();
  let text = '';
  try {
    text = readFileSync(join(home, 'session_index.jsonl'), 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    try {
      const entry = record(JSON.parse(line));
      if (typeof entry.id === 'string')
        names.set(entry.id, typeof entry.thread_name === 'string' ? entry.thread_name : null);
    } catch {
      // A torn or foreign line says nothing about names.
    }
  }
  return names;
}

export function surveyHome(home: string): HomeSurvey {
  const files = walk(home);
  const knownIds = new Set<string>();
  for (const file of files) {
    // latin1 keeps every byte, so ids stored in SQLite pages are found too.
    for (const match of readFileSync(file, 'latin1').matchAll(UUID_PATTERN)) knownIds.add(match[0]);
  }
  const names = latestNames(home);
  const threads: SurveyedThread[] = [];
  for (const file of files) {
    const rel = relative(home, file);
    if (!/^(sessions|archived_sessions)\//.test(rel) || !/rollout-.*\.jsonl$/.test(rel)) continue;
    const thread = surveyRollout(home, file);
    if (thread === null) continue;
    thread.name = names.get(thread.id) ?? null;
    threads.push(thread);
  }
  threads.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { home, threads, knownIds };
}
