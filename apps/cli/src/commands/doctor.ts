import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import {
  forEachRolloutLine,
  parseRolloutLine,
  readSessionIndexNames,
  reconcileRolloutFile,
  resolveRolloutFile,
} from '@skein/rollout';
import {
  deleteThread,
  listThreads,
  readBackfillState,
  StateRuntime,
  stateDbPath,
  type ThreadMetadata,
} from '@skein/state';
import { configuredModelProvider } from '../config.js';
import type { CommandContext } from '../context.js';
import { type RolloutFileRef, walkRolloutFiles } from '../disk-lookup.js';
import { EXIT, type ExitCode } from '../errors.js';
import { formatBytes, plural } from '../format.js';
import { buildServices } from '../services.js';

/**
 * `skein doctor`: checks a home without changing it, and with `--repair` fixes what can be
 * fixed without losing anything. It never writes to a rollout file: torn and malformed lines
 * are reported (readers skip them) and left as evidence; repairs touch only the state index.
 */

export type FindingKind =
  | 'torn-tail'
  | 'unterminated-tail'
  | 'malformed-lines'
  | 'empty-file'
  | 'no-session-meta'
  | 'file-id-mismatch'
  | 'duplicate-file'
  | 'index-missing'
  | 'index-integrity'
  | 'index-recovered'
  | 'backfill-incomplete'
  | 'row-file-missing'
  | 'row-file-other-thread'
  | 'row-archived-mismatch'
  | 'file-not-indexed'
  | 'name-unknown-thread';

export interface Finding {
  kind: FindingKind;
  /** `error`: damage (doctor exits 5 while one remains); `warning`: tolerated, reported. */
  severity: 'error' | 'warning';
  /** A home-relative path or a thread id. */
  subject: string;
  message: string;
  /** What `--repair` does about it, or null when nothing can be done without losing data. */
  fix: string | null;
  /** Set when `--repair` did it. */
  repaired?: boolean;
}

interface FileCheck {
  ref: RolloutFileRef;
  /** The file actually read (plain or `.zst`). */
  file: string;
  size: number;
  ownId: string | null;
}

const MAX_LINE_NUMBERS = 8;
/** Files read at once by the line check. */
const FILE_CHECK_CONCURRENCY = 16;

export interface DoctorOptions {
  json?: boolean;
  repair?: boolean;
}

export async function runDoctor(ctx: CommandContext, options: DoctorOptions): Promise<ExitCode> {
  const { path: home } = await ctx.home();
  const repair = options.repair === true;
  const findings: Finding[] = [];
  const rel = (path: string) => relative(home, path) || path;

  // 1. Rollout files, line by line.
  const refs = await walkRolloutFiles(home);
  const checks: FileCheck[] = [];
  let totalBytes = 0;
  // Files are checked a few at a time (I/O overlaps); findings keep the walk's order.
  const perFile: Finding[][] = refs.map(() => []);
  const results: (FileCheck | null)[] = new Array(refs.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < refs.length; i = next++) {
      results[i] = await checkFile(refs[i]!, perFile[i]!, rel);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_CHECK_CONCURRENCY, refs.length) }, worker));
  for (let i = 0; i < refs.length; i += 1) {
    findings.push(...perFile[i]!);
    const check = results[i];
    if (check) {
      checks.push(check);
      totalBytes += check.size;
    }
  }
  const byId = new Map<string, FileCheck[]>();
  for (const check of checks) {
    const id = check.ownId ?? check.ref.threadId;
    byId.set(id, [...(byId.get(id) ?? []), check]);
  }
  for (const [id, list] of byId) {
    if (list.length > 1) {
      findings.push({
        kind: 'duplicate-file',
        severity: 'warning',
        subject: id,
        message: `${list.length} rollout files claim this thread: ${list.map((c) => rel(c.ref.path)).join(', ')}`,
        fix: null,
      });
    }
  }

  // 2. The name index.
  const names = await readSessionIndexNames(home);
  for (const [id, name] of names) {
    if (!byId.has(id)) {
      findings.push({
        kind: 'name-unknown-thread',
        severity: 'warning',
        subject: id,
        message: `session_index.jsonl names "${name}" but no rollout file has this id (Codex ignores it; kept, it is not ours to drop)`,
        fix: null,
      });
    }
  }

  // 3. The state index.
  const dbPath = stateDbPath(home);
  const index: {
    path: string;
    exists: boolean;
    rows: number;
    backfill: string | null;
    integrity: string | null;
  } = {
    path: dbPath,
    exists: existsSync(dbPath),
    rows: 0,
    backfill: null,
    integrity: null,
  };
  if (!index.exists) {
    findings.push({
      kind: 'index-missing',
      severity: 'warning',
      subject: rel(dbPath),
      message: 'no state index yet (any skein command builds it from the rollout files)',
      fix: 'build it now from the rollout files',
    });
    if (repair) {
      const services = await buildServices(home, ctx.out);
      await services.close();
      markRepaired(findings, 'index-missing');
      index.exists = existsSync(dbPath);
    }
  }
  if (index.exists) {
    const runtime = await StateRuntime.open({
      sqliteHome: home,
      defaultProvider: configuredModelProvider(home),
    });
    try {
      if (runtime.recoveredBackupDir) {
        findings.push({
          kind: 'index-recovered',
          severity: 'warning',
          subject: rel(dbPath),
          message: `the state index failed its integrity check; it was moved to ${rel(runtime.recoveredBackupDir)} and a fresh one created`,
          fix: 'refill the fresh index from the rollout files',
        });
      }
      const integrity = runtime.sqlite.pragma('integrity_check', { simple: true });
      index.integrity = String(integrity);
      if (index.integrity !== 'ok') {
        findings.push({
          kind: 'index-integrity',
          severity: 'error',
          subject: rel(dbPath),
          message: `integrity_check: ${index.integrity}`,
          fix: null,
        });
      }
      const backfill = await readBackfillState(runtime);
      index.backfill = backfill.status;
      if (backfill.status !== 'complete') {
        findings.push({
          kind: 'backfill-incomplete',
          severity: 'warning',
          subject: rel(dbPath),
          message: `backfill is ${backfill.status} (the index may lack threads until it completes)`,
          fix: 'index every rollout file the index lacks',
        });
      }
      const rows = await allRows(runtime);
      index.rows = rows.length;
      await checkRows(runtime, rows, byId, findings, rel, repair, backfill.status === 'complete');
    } finally {
      await runtime.close();
    }
  }

  // 4. A fresh or half-built index: let the normal open path (initStateDb) finish the backfill.
  if (
    repair &&
    findings.some(
      (f) => (f.kind === 'backfill-incomplete' || f.kind === 'index-recovered') && !f.repaired,
    )
  ) {
    const services = await buildServices(home, ctx.out);
    await services.close();
    markRepaired(findings, 'backfill-incomplete');
    markRepaired(findings, 'index-recovered');
    for (const finding of findings) {
      if (finding.kind === 'file-not-indexed' && finding.severity === 'warning')
        finding.repaired = true;
    }
  }

  return report(
    ctx,
    home,
    {
      files: checks.length,
      bytes: totalBytes,
      archived: checks.filter((c) => c.ref.archived).length,
    },
    index,
    findings,
    repair,
  );
}

function markRepaired(findings: Finding[], kind: FindingKind): void {
  for (const finding of findings) if (finding.kind === kind) finding.repaired = true;
}

async function checkFile(
  ref: RolloutFileRef,
  findings: Finding[],
  rel: (path: string) => string,
): Promise<FileCheck | null> {
  const file = await resolveRolloutFile(ref.path);
  if (!file) return null;
  const size = (await stat(file)).size;
  let lineNumber = 0;
  let nonBlank = 0;
  const malformed: number[] = [];
  let ownId: string | null = null;
  let sawMeta = false;
  let tail: { line: number; bytes: number; parses: boolean } | null = null;
  try {
    await forEachRolloutLine(file, (raw, info) => {
      lineNumber += 1;
      const text = raw.toString('utf8');
      if (text.trim() === '') return;
      nonBlank += 1;
      const parsed = parseRolloutLine(text);
      if (!info.terminated) tail = { line: lineNumber, bytes: raw.length, parses: parsed.ok };
      if (!parsed.ok) {
        if (info.terminated) malformed.push(lineNumber);
        return;
      }
      if (!sawMeta && parsed.line.type === 'session_meta') {
        sawMeta = true;
        ownId = parsed.line.payload.id.toLowerCase();
      }
    });
  } catch (error) {
    findings.push({
      kind: 'malformed-lines',
      severity: 'error',
      subject: rel(file),
      message: `cannot be read: ${(error as Error).message}`,
      fix: null,
    });
    return { ref, file, size, ownId };
  }
  const subject = rel(file);
  if (nonBlank === 0) {
    findings.push({
      kind: 'empty-file',
      severity: 'warning',
      subject,
      message: 'the file is empty (no thread can be read from it)',
      fix: null,
    });
  } else if (!sawMeta) {
    findings.push({
      kind: 'no-session-meta',
      severity: 'warning',
      subject,
      message: 'no session_meta line (the thread id comes from the file name only)',
      fix: null,
    });
  } else if (ownId !== ref.threadId) {
    findings.push({
      kind: 'file-id-mismatch',
      severity: 'warning',
      subject,
      message: `file name says ${ref.threadId} but its session_meta says ${ownId}`,
      fix: null,
    });
  }
  if (malformed.length > 0) {
    const shown = malformed.slice(0, MAX_LINE_NUMBERS).join(', ');
    findings.push({
      kind: 'malformed-lines',
      severity: 'warning',
      subject,
      message: `${plural(malformed.length, 'malformed line')} (line ${shown}${malformed.length > MAX_LINE_NUMBERS ? ', …' : ''}); readers skip them; never rewritten`,
      fix: null,
    });
  }
  const torn = tail as { line: number; bytes: number; parses: boolean } | null;
  if (torn) {
    // Tolerated by every reader, and writers terminate the line before their next append;
    // rewriting it would destroy evidence, so it is reported and left alone.
    findings.push({
      kind: torn.parses ? 'unterminated-tail' : 'torn-tail',
      severity: 'warning',
      subject,
      message: torn.parses
        ? `last line (${torn.line}) has no newline (a writer terminates it before appending)`
        : `last line (${torn.line}, ${torn.bytes} bytes) is torn: incomplete JSON, skipped by readers; never rewritten`,
      fix: null,
    });
  }
  return { ref, file, size, ownId };
}

async function allRows(runtime: StateRuntime): Promise<ThreadMetadata[]> {
  const rows: ThreadMetadata[] = [];
  for (const archived of [false, true]) {
    let cursor: string | null = null;
    for (let page = 0; page < 10_000; page += 1) {
      const result = await listThreads(runtime.ctx, {
        pageSize: 1000,
        cursor,
        archived,
        includeHidden: true,
      });
      rows.push(...result.items);
      if (!result.nextCursor || result.nextCursor === cursor) break;
      cursor = result.nextCursor;
    }
  }
  return rows;
}

async function checkRows(
  runtime: StateRuntime,
  rows: readonly ThreadMetadata[],
  byId: Map<string, FileCheck[]>,
  findings: Finding[],
  rel: (path: string) => string,
  repair: boolean,
  backfillComplete: boolean,
): Promise<void> {
  const rowIds = new Set(rows.map((row) => row.id as string));
  const byFile = new Map<string, FileCheck>();
  for (const list of byId.values()) for (const check of list) byFile.set(check.file, check);
  const reindex = (check: FileCheck): Promise<void> =>
    reconcileRolloutFile(runtime, check.ref.path, {
      archived: check.ref.archived,
    }).then(() => undefined);
  for (const row of rows) {
    const own = byId.get(row.id)?.find((c) => c.ownId === row.id) ?? byId.get(row.id)?.[0];
    const rowFile = byFile.has(row.rolloutPath)
      ? row.rolloutPath
      : await resolveRolloutFile(row.rolloutPath);
    const atRowPath = rowFile ? byFile.get(rowFile) : undefined;
    if (!rowFile) {
      const finding: Finding = {
        kind: 'row-file-missing',
        severity: 'error',
        subject: row.id,
        message: `index row points at ${rel(row.rolloutPath)}, which does not exist`,
        fix: own
          ? `re-point the row at ${rel(own.ref.path)}`
          : 'remove the row (its transcript is gone; the file is the truth)',
      };
      findings.push(finding);
      if (repair) {
        if (own) await reindex(own);
        else await deleteThread(runtime.ctx, row.id);
        finding.repaired = true;
      }
    } else if (atRowPath && atRowPath.ownId !== null && atRowPath.ownId !== row.id) {
      const finding: Finding = {
        kind: 'row-file-other-thread',
        severity: 'error',
        subject: row.id,
        message: `index row points at ${rel(rowFile)}, which holds thread ${atRowPath.ownId}`,
        fix:
          own && own.ownId === row.id
            ? `re-point the row at ${rel(own.ref.path)}`
            : 'remove the row (no file of its own exists)',
      };
      findings.push(finding);
      if (repair) {
        if (own && own.ownId === row.id) await reindex(own);
        else await deleteThread(runtime.ctx, row.id);
        finding.repaired = true;
      }
    } else if (atRowPath && atRowPath.ref.archived !== row.archived) {
      const finding: Finding = {
        kind: 'row-archived-mismatch',
        severity: 'error',
        subject: row.id,
        message: `index says ${row.archived ? 'archived' : 'active'} but the file is in ${atRowPath.ref.archived ? 'archived_sessions/' : 'sessions/'}`,
        fix: 'take the archived state from where the file is',
      };
      findings.push(finding);
      if (repair) {
        await reindex(atRowPath);
        finding.repaired = true;
      }
    }
  }
  const unindexed: FileCheck[] = [];
  for (const [id, list] of byId) {
    if (rowIds.has(id)) continue;
    const check = list[0]!;
    if (check.ownId !== null) unindexed.push(check); // without session_meta there is nothing to index
  }
  if (!backfillComplete) {
    // A fresh or half-built index: missing rows are expected, not damage; the backfill (any
    // skein command, or --repair) fills them. One line, not one per file.
    if (unindexed.length > 0) {
      findings.push({
        kind: 'file-not-indexed',
        severity: 'warning',
        subject: `${unindexed.length} files`,
        message: `${plural(unindexed.length, 'rollout file')} not indexed yet (the backfill has not finished)`,
        fix: 'finish the backfill',
      });
    }
    return;
  }
  for (const check of unindexed) {
    const finding: Finding = {
      kind: 'file-not-indexed',
      severity: 'error',
      subject: rel(check.ref.path),
      message: `thread ${check.ownId} has no index row (lists that use the index miss it)`,
      fix: 'index the file',
    };
    findings.push(finding);
    if (repair) {
      try {
        await reindex(check);
        finding.repaired = true;
      } catch (error) {
        finding.message += ` — indexing failed: ${(error as Error).message}`;
      }
    }
  }
}

function report(
  ctx: CommandContext,
  home: string,
  files: { files: number; bytes: number; archived: number },
  index: {
    path: string;
    exists: boolean;
    rows: number;
    backfill: string | null;
    integrity: string | null;
  },
  findings: Finding[],
  repair: boolean,
): ExitCode {
  const out = ctx.out;
  const remaining = findings.filter((f) => f.severity === 'error' && !f.repaired);
  const repaired = findings.filter((f) => f.repaired);
  const exitCode = remaining.length > 0 ? EXIT.problems : EXIT.ok;
  if (out.json) {
    out.printJson({
      home,
      ok: remaining.length === 0,
      files: { checked: files.files, archived: files.archived, bytes: files.bytes },
      index,
      findings,
      repaired: repaired.length,
      remainingProblems: remaining.length,
    });
    return exitCode;
  }
  const c = out.color;
  out.line(`${c.bold('Codex home')}   ${home}`);
  out.line(
    `${c.bold('Rollouts')}     ${plural(files.files, 'file')} (${files.files - files.archived} active, ${files.archived} archived), ${formatBytes(files.bytes)}`,
  );
  out.line(
    `${c.bold('State index')}  ${index.exists ? `${relative(home, index.path)}: ${plural(index.rows, 'row')}, integrity ${index.integrity ?? '?'}, backfill ${index.backfill ?? '?'}` : 'not built'}`,
  );
  const errors = findings.filter((f) => f.severity === 'error');
  const warnings = findings.filter((f) => f.severity === 'warning');
  const print = (finding: Finding) => {
    const mark = finding.repaired
      ? c.green('✓')
      : finding.severity === 'error'
        ? c.red('✗')
        : c.yellow('!');
    out.line(`  ${mark} ${c.bold(finding.kind)}  ${finding.subject}`);
    out.line(`      ${finding.message}`);
    if (finding.repaired) out.line(`      ${c.green(`repaired: ${finding.fix ?? ''}`)}`);
    else if (finding.fix && !repair) out.line(`      ${c.dim(`--repair: ${finding.fix}`)}`);
  };
  if (errors.length > 0) {
    out.line();
    out.line(c.bold(`Problems (${errors.length})`));
    printCapped(errors, print, out);
  }
  if (warnings.length > 0) {
    out.line();
    out.line(c.bold(`Warnings (${warnings.length})`));
    printCapped(warnings, print, out);
  }
  out.line();
  if (findings.length === 0) out.line(c.green('No problems found.'));
  else if (repair) {
    out.line(
      `${plural(repaired.length, 'repair')} made; ${remaining.length === 0 ? c.green('no problems remain.') : c.red(`${plural(remaining.length, 'problem')} remain (not repairable without losing data).`)}`,
    );
  } else if (remaining.length > 0) {
    const fixable = remaining.filter((f) => f.fix).length;
    out.line(
      `${c.red(plural(remaining.length, 'problem'))} found; ${fixable} can be fixed by ${c.bold('skein doctor --repair')}.`,
    );
  } else out.line(c.green('No problems found') + ` (${plural(warnings.length, 'warning')}).`);
  return exitCode;
}

/** Findings shown per kind in the human report; `--json` always has all of them. */
const SHOWN_PER_KIND = 10;

function printCapped(
  findings: readonly Finding[],
  print: (finding: Finding) => void,
  out: CommandContext['out'],
): void {
  const shown = new Map<FindingKind, number>();
  for (const finding of findings) {
    const count = shown.get(finding.kind) ?? 0;
    shown.set(finding.kind, count + 1);
    if (count < SHOWN_PER_KIND) print(finding);
  }
  for (const [kind, count] of shown) {
    if (count > SHOWN_PER_KIND) {
      out.line(
        out.color.dim(`  … and ${count - SHOWN_PER_KIND} more ${kind} (all of them in --json)`),
      );
    }
  }
}
