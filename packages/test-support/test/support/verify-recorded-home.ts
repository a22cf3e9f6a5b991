/**
 * Reads a recorded home back without the recorder's code (its own file walk, JSONL parsing and
 * SQL) and lists every way the files disagree with MANIFEST.json. An empty list means the
 * manifest is true of the home.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import * as z from 'zod';

const gitSchema = z.object({
  sha: z.string().nullable(),
  branch: z.string().nullable(),
  originUrl: z.string().nullable(),
});

const turnSchema = z.object({
  id: z.string(),
  userMessages: z.array(z.string()),
  agentMessages: z.array(z.string()),
});

const threadSchema = z
  .object({
    key: z.string(),
    id: z.string(),
    cwd: z.string(),
    name: z.string().nullable(),
    archived: z.boolean(),
    ephemeral: z.boolean(),
    persisted: z.boolean(),
    deleted: z.boolean(),
    historyMode: z.string().nullable(),
    source: z.string().nullable(),
    modelProvider: z.string().nullable(),
    preview: z.string().nullable(),
    turnCount: z.number(),
    inheritedTurnCount: z.number(),
    turnIds: z.array(z.string()),
    userMessages: z.array(z.string()),
    agentMessages: z.array(z.string()),
    turns: z.array(turnSchema),
    forkedFromId: z.string().nullable(),
    parentThreadId: z.string().nullable(),
    agentNickname: z.string().nullable(),
    gitInfo: gitSchema.nullable(),
    readState: z
      .object({
        firstUnread: z
          .union([
            z.object({ type: z.literal('threadStart') }),
            z.object({ type: z.literal('turn'), turnId: z.string() }),
          ])
          .nullable(),
        revision: z.string(),
      })
      .nullable(),
  })
  .passthrough();

export const recordedManifestSchema = z
  .object({
    codexVersion: z.string(),
    codexVersions: z.array(z.string()),
    rolloutFormat: z.string(),
    codexHome: z.string(),
    projects: z.record(z.string(), z.string()),
    threads: z.array(threadSchema),
    roles: z.record(z.string(), z.string()),
    checkProblems: z.array(z.string()),
    files: z.record(z.string(), z.object({ size: z.number(), sha256: z.string() })),
    mtimes: z.record(z.string(), z.number()),
  })
  .passthrough();

export type RecordedManifest = z.infer<typeof recordedManifestSchema>;
type Thread = z.infer<typeof threadSchema>;

type Line = { ordinal?: number; type: string; payload: Record<string, unknown> };

function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) visit(path);
      else out.push(relative(dir, path));
    }
  };
  visit(dir);
  return out.sort();
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Turns and messages a rollout file itself records (not what a lineage adds). */
function rolloutTurns(lines: Line[]): { ids: string[]; users: string[]; agents: string[] } {
  const ids: string[] = [];
  const users: string[] = [];
  const agents: string[] = [];
  for (const line of lines) {
    if (line.type !== 'event_msg') continue;
    const payload = line.payload;
    if (payload.type === 'task_started') ids.push(text(payload.turn_id));
    if (payload.type === 'user_message') users.push(text(payload.message));
    if (payload.type === 'agent_message') agents.push(text(payload.message));
    if (payload.type === 'item_completed') {
      const item = (payload.item ?? {}) as Record<string, unknown>;
      const content = Array.isArray(item.content) ? (item.content as { text?: string }[]) : [];
      const joined = content.map((part) => part.text ?? '').join('');
      if (item.type === 'UserMessage') users.push(joined);
      if (item.type === 'AgentMessage') agents.push(joined);
    }
  }
  return { ids, users, agents };
}

export function readRecordedManifest(homeDir: string): RecordedManifest {
  return recordedManifestSchema.parse(
    JSON.parse(readFileSync(join(homeDir, 'MANIFEST.json'), 'utf8')),
  );
}

export function verifyRecordedHome(homeDir: string): string[] {
  const failures: string[] = [];
  const fail = (message: string) => failures.push(message);
  const manifest = readRecordedManifest(homeDir);
  const home = manifest.codexHome;

  // Payload files: exactly what `files` lists, with those sizes, hashes and whole-ms mtimes.
  const onDisk = walk(homeDir).filter(
    (rel) => rel !== 'MANIFEST.json' && rel !== 'transcript.jsonl',
  );
  const listed = Object.keys(manifest.files).sort();
  if (JSON.stringify(onDisk) !== JSON.stringify(listed)) {
    fail(`payload files differ from manifest.files: disk ${onDisk.join(', ')}`);
  }
  for (const rel of onDisk) {
    if (rel.endsWith('-wal') || rel.endsWith('-shm')) fail(`SQLite side file ${rel}`);
    const bytes = readFileSync(join(homeDir, rel));
    const entry = manifest.files[rel];
    if (!entry) continue;
    if (entry.size !== bytes.length) fail(`${rel}: size ${bytes.length}, manifest ${entry.size}`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (entry.sha256 !== sha) fail(`${rel}: sha256 differs from the manifest`);
    if (!Number.isInteger(manifest.mtimes[rel])) fail(`${rel}: no whole-ms mtime in the manifest`);
  }
  if (manifest.checkProblems.length > 0)
    fail(`checkProblems: ${manifest.checkProblems.join('; ')}`);

  // Rollouts by thread id, from file names.
  const rollouts = new Map<string, string>();
  for (const rel of onDisk) {
    const match =
      /^(?:sessions\/\d{4}\/\d{2}\/\d{2}|archived_sessions)\/rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-(.+)\.jsonl$/.exec(
        rel,
      );
    if (match) rollouts.set(match[1]!, rel);
    else if (rel.endsWith('.jsonl') && rel !== 'session_index.jsonl')
      fail(`unexpected file ${rel}`);
  }
  const known = new Set(manifest.threads.map((thread) => thread.id));
  for (const id of rollouts.keys()) {
    if (!known.has(id)) fail(`rollout of a thread the manifest does not list: ${id}`);
  }

  // The session index: last name per id.
  const indexNames = new Map<string, string>();
  if (existsSync(join(homeDir, 'session_index.jsonl'))) {
    for (const line of readFileSync(join(homeDir, 'session_index.jsonl'), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as { id: string; thread_name: string };
      indexNames.set(entry.id, entry.thread_name);
    }
  }

  const state = new Database(join(homeDir, 'state_5.sqlite'), { fileMustExist: true });
  const historyPath = join(homeDir, 'thread_history_1.sqlite');
  const history = existsSync(historyPath)
    ? new Database(historyPath, { fileMustExist: true })
    : undefined;
  try {
    const columns = new Set(
      (state.prepare('PRAGMA table_info(threads)').all() as { name: string }[]).map((c) => c.name),
    );
    const hasReceipts =
      state
        .prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'thread_read_receipts'")
        .pluck()
        .get() === 1;
    const rowOf = state.prepare('SELECT * FROM threads WHERE id = ?');
    const edgeOf = state.prepare(
      'SELECT parent_thread_id FROM thread_spawn_edges WHERE child_thread_id = ?',
    );
    const receiptOf = hasReceipts
      ? state.prepare('SELECT * FROM thread_read_receipts WHERE thread_id = ?')
      : undefined;
    const turnsOf = history?.prepare(
      'SELECT turn_id FROM thread_turns WHERE thread_id = ? ORDER BY rollout_ordinal',
    );
    for (const row of state.prepare('SELECT id, rollout_path FROM threads').all() as {
      id: string;
      rollout_path: string;
    }[]) {
      if (!known.has(row.id)) fail(`state row of a thread the manifest does not list: ${row.id}`);
      if (!row.rollout_path.startsWith(`${home}/`)) {
        fail(`${row.id}: rollout_path outside ${home}: ${row.rollout_path}`);
      }
    }

    for (const thread of manifest.threads) {
      const where = `${thread.key} (${thread.id})`;
      const rel = rollouts.get(thread.id);
      const row = rowOf.get(thread.id) as Record<string, unknown> | undefined;
      if (!thread.persisted) {
        if (rel) fail(`${where}: not persisted but has rollout ${rel}`);
        if (row) fail(`${where}: not persisted but has a state row`);
        if (indexNames.has(thread.id)) fail(`${where}: not persisted but in session_index.jsonl`);
        continue;
      }
      checkThread(thread, where, rel, row);
    }

    function checkThread(
      thread: Thread,
      where: string,
      rel: string | undefined,
      row: Record<string, unknown> | undefined,
    ): void {
      if (!row) fail(`${where}: persisted but no state row`);
      if (thread.turnCount > 0 || thread.name !== null) {
        if (!rel) {
          fail(`${where}: has turns or a name but no rollout file`);
          return;
        }
      }
      if (rel && thread.archived !== rel.startsWith('archived_sessions/')) {
        fail(`${where}: archived=${thread.archived} but the rollout is at ${rel}`);
      }
      if (row) {
        if (row.archived !== (thread.archived ? 1 : 0))
          fail(`${where}: state archived=${row.archived}`);
        if (rel && row.rollout_path !== `${home}/${rel}`) {
          fail(`${where}: state rollout_path ${row.rollout_path}, file ${rel}`);
        }
        if (row.cwd !== thread.cwd) fail(`${where}: state cwd ${row.cwd}, manifest ${thread.cwd}`);
        if (row.model_provider !== thread.modelProvider) {
          fail(
            `${where}: state model_provider ${row.model_provider}, manifest ${thread.modelProvider}`,
          );
        }
        const git =
          row.git_sha === null && row.git_branch === null && row.git_origin_url === null
            ? null
            : { sha: row.git_sha, branch: row.git_branch, originUrl: row.git_origin_url };
        if (JSON.stringify(git) !== JSON.stringify(thread.gitInfo)) {
          fail(
            `${where}: state git ${JSON.stringify(git)}, manifest ${JSON.stringify(thread.gitInfo)}`,
          );
        }
        if (columns.has('history_mode') && thread.historyMode !== null) {
          if (row.history_mode !== thread.historyMode) {
            fail(
              `${where}: state history_mode ${row.history_mode}, manifest ${thread.historyMode}`,
            );
          }
        }
        const source = String(row.source);
        const sourceKind =
          source.startsWith('{') && source.includes('thread_spawn')
            ? 'subAgentThreadSpawn'
            : source;
        if (sourceKind !== thread.source)
          fail(`${where}: state source ${source}, manifest ${thread.source}`);
        if (thread.agentNickname !== null && row.agent_nickname !== thread.agentNickname) {
          fail(
            `${where}: state agent_nickname ${row.agent_nickname}, manifest ${thread.agentNickname}`,
          );
        }
      }
      if (thread.parentThreadId !== null) {
        const edge = edgeOf.get(thread.id) as { parent_thread_id: string } | undefined;
        if (edge?.parent_thread_id !== thread.parentThreadId) {
          fail(
            `${where}: spawn edge parent ${edge?.parent_thread_id}, manifest ${thread.parentThreadId}`,
          );
        }
      }
      const indexName = indexNames.get(thread.id) ?? null;
      if (indexName !== thread.name) {
        fail(
          `${where}: session_index name ${JSON.stringify(indexName)}, manifest ${JSON.stringify(thread.name)}`,
        );
      }
      if (
        receiptOf &&
        thread.readState !== null &&
        !thread.readState.revision.startsWith('initial:')
      ) {
        const receipt = receiptOf.get(thread.id) as Record<string, unknown> | undefined;
        const first = thread.readState.firstUnread;
        const expected = first === null ? null : first.type === 'threadStart' ? '' : first.turnId;
        if (!receipt) fail(`${where}: readState ${thread.readState.revision} but no receipt row`);
        else {
          if (receipt.first_unread_turn !== expected) {
            fail(
              `${where}: receipt first_unread_turn ${receipt.first_unread_turn}, manifest ${expected}`,
            );
          }
          if (receipt.revision !== thread.readState.revision)
            fail(`${where}: receipt revision differs`);
        }
      }
      if (!rel) return;

      const lines = readFileSync(join(homeDir, rel), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Line);
      const meta = lines[0];
      if (meta?.type !== 'session_meta' || meta.payload.id !== thread.id) {
        fail(`${where}: first rollout line is not its session_meta`);
        return;
      }
      if (meta.payload.cwd !== thread.cwd) fail(`${where}: session_meta cwd ${meta.payload.cwd}`);
      if ((meta.payload.forked_from_id ?? null) !== thread.forkedFromId) {
        fail(`${where}: session_meta forked_from_id ${meta.payload.forked_from_id}`);
      }
      const paginated = lines.every((line) => typeof line.ordinal === 'number');
      if (thread.historyMode !== null && paginated !== (thread.historyMode === 'paginated')) {
        fail(
          `${where}: historyMode ${thread.historyMode} but ordinals ${paginated ? 'on every line' : 'missing'}`,
        );
      }
      // A paginated fork stores only its own turns; a legacy fork copies its source's lines.
      const skip = paginated ? thread.inheritedTurnCount : 0;
      const expectedIds = thread.turnIds.slice(skip);
      const fromFile = rolloutTurns(lines);
      if (JSON.stringify(fromFile.ids) !== JSON.stringify(expectedIds)) {
        fail(
          `${where}: rollout turn ids ${fromFile.ids.length}, manifest ${expectedIds.length} (${JSON.stringify(fromFile.ids.slice(0, 3))}…)`,
        );
      }
      if (JSON.stringify(fromFile.users) !== JSON.stringify(thread.userMessages.slice(skip))) {
        fail(`${where}: rollout user messages ${JSON.stringify(fromFile.users)}`);
      }
      const expectedAgents = thread.turns.slice(skip).flatMap((turn) => turn.agentMessages);
      if (JSON.stringify(fromFile.agents) !== JSON.stringify(expectedAgents)) {
        fail(`${where}: rollout agent messages ${JSON.stringify(fromFile.agents)}`);
      }
      if (
        JSON.stringify(thread.turns.flatMap((turn) => turn.agentMessages)) !==
        JSON.stringify(thread.agentMessages)
      ) {
        fail(`${where}: agentMessages is not the turns' agent messages in order`);
      }
      if (paginated && turnsOf) {
        const projected = (turnsOf.all(thread.id) as { turn_id: string }[]).map((r) => r.turn_id);
        if (JSON.stringify(projected) !== JSON.stringify(expectedIds)) {
          fail(
            `${where}: history DB turns ${JSON.stringify(projected)}, manifest ${JSON.stringify(expectedIds)}`,
          );
        }
      }
      const preview = thread.userMessages[0] ?? '';
      if (thread.preview !== preview) {
        fail(
          `${where}: preview ${JSON.stringify(thread.preview)}, first user message ${JSON.stringify(preview)}`,
        );
      }
      if (statSync(join(homeDir, rel)).size === 0) fail(`${where}: empty rollout`);
    }
  } finally {
    state.close();
    history?.close();
  }

  for (const [role, key] of Object.entries(manifest.roles)) {
    if (!manifest.threads.some((thread) => thread.key === key))
      fail(`role ${role} → unknown ${key}`);
  }
  return failures;
}
