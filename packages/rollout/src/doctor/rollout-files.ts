import { realpathSync } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { ThreadId } from '@skein/protocol';
import { parseRolloutFileName, realPathInHome, resolveRolloutFile } from '../layout.js';
import { forEachRolloutLine } from '../lines.js';
import { type HistoryBase, parseRolloutLine } from '../schema.js';
import { collectRolloutFiles } from '../state-db/files.js';
import type { FilesSummary, HomeFinding, HomeScan, ScannedFile } from './types.js';

/**
 * Doctor's check family for the rollout files: every file under `sessions/` and
 * `archived_sessions/` read line by line. Nothing here is repairable: a rollout is the truth
 * and is never rewritten — torn and malformed lines are left as evidence (readers skip them),
 * and a file whose first line is not its `session_meta` cannot be read as a thread at all.
 */

const MAX_LINE_NUMBERS = 8;
/** Files read at once. */
const FILE_CHECK_CONCURRENCY = 16;

export interface RolloutFilesDiagnosis {
  scan: HomeScan;
  summary: FilesSummary;
  findings: HomeFinding[];
}

export async function diagnoseRolloutFiles(codexHome: string): Promise<RolloutFilesDiagnosis> {
  const home = resolve(codexHome);
  const rel = (path: string) => relative(home, path) || path;
  const refs = collectRolloutFiles(home, false, true).flatMap((file) => {
    const parsed = parseRolloutFileName(file.rolloutPath);
    return parsed === null ? [] : [{ ...file, nameId: parsed.threadId as ThreadId }];
  });
  // A few files at a time (I/O overlaps); findings keep the walk's order.
  const perFile: HomeFinding[][] = refs.map(() => []);
  const results: (ScannedFile | null)[] = new Array(refs.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < refs.length; i = next++) {
      const ref = refs[i]!;
      results[i] = await scanFile(
        home,
        ref.rolloutPath,
        ref.nameId,
        ref.archived,
        perFile[i]!,
        rel,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_CHECK_CONCURRENCY, refs.length) }, worker));
  const findings = perFile.flat();
  const files = results.filter((file): file is ScannedFile => file !== null);
  const byThread = new Map<string, ScannedFile[]>();
  for (const file of files) {
    const id = file.ownId ?? file.nameId;
    byThread.set(id, [...(byThread.get(id) ?? []), file]);
  }
  for (const [id, list] of byThread) {
    if (list.length < 2) continue;
    findings.push({
      kind: 'duplicate-file',
      severity: 'warning',
      subject: id,
      threadId: id,
      message: `${list.length} rollout files claim this thread: ${list.map((f) => rel(f.path)).join(', ')}`,
      fix: null,
    });
  }
  return {
    scan: { home, files, byThread, rel },
    summary: {
      checked: files.length,
      active: files.filter((f) => !f.archived).length,
      archived: files.filter((f) => f.archived).length,
      bytes: files.reduce((sum, f) => sum + f.size, 0),
    },
    findings,
  };
}

/** Whether `path` lies inside `home` (as given, or with its links resolved). */
export function isInsideHome(home: string, path: string): boolean {
  const target = resolve(path);
  for (const root of homeRoots(home)) {
    if (target.startsWith(`${root}/`)) return true;
  }
  return false;
}

/** `path` spelled from `home` as given, when it is spelled from the home's resolved path. */
export function inHomeSpelling(home: string, path: string): string {
  const [given, real] = homeRoots(home);
  if (real !== undefined && given !== undefined && path.startsWith(`${real}/`)) {
    return given + path.slice(real.length);
  }
  return path;
}

function homeRoots(home: string): string[] {
  const roots = [resolve(home)];
  try {
    const real = realpathSync.native(home);
    if (real !== roots[0]) roots.push(real);
  } catch {
    // a home that does not exist has no other spelling
  }
  return roots;
}

interface TailState {
  line: number;
  bytes: number;
  parses: boolean;
}

async function scanFile(
  home: string,
  path: string,
  nameId: ThreadId,
  archived: boolean,
  findings: HomeFinding[],
  rel: (path: string) => string,
): Promise<ScannedFile | null> {
  const file = await resolveRolloutFile(path);
  if (!file) return null; // vanished while we looked
  const outside = await linkOutsideHome(home, file);
  if (outside !== null) {
    // Never followed: nothing outside the home is read (the file could be anything).
    findings.push({
      kind: 'link-outside-home',
      severity: 'error',
      subject: rel(file),
      path,
      message: `a link to ${outside}, outside the home; Skein never follows it`,
      fix: null,
    });
    return null;
  }
  const scanned: ScannedFile = {
    nameId,
    path,
    file,
    archived,
    size: (await stat(file)).size,
    ownId: null,
    historyMode: null,
    historyBase: null,
  };
  const subject = rel(file);
  let lineNumber = 0;
  let nonBlank = 0;
  const malformed: number[] = [];
  let firstLineIsMeta = false;
  let tail: TailState | null = null;
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
      // The file's own session_meta is its first line; a later one is a copied source's.
      if (nonBlank === 1 && parsed.line.type === 'session_meta') {
        const meta = parsed.line.payload;
        firstLineIsMeta = true;
        scanned.ownId = meta.id.toLowerCase() as ThreadId;
        scanned.historyMode = meta.history_mode ?? null;
        scanned.historyBase = (meta.history_base as HistoryBase | null | undefined) ?? null;
      }
    });
  } catch (error) {
    findings.push({
      kind: 'malformed-lines',
      severity: 'error',
      subject,
      path,
      message: `cannot be read: ${(error as Error).message}`,
      fix: null,
    });
    return scanned;
  }
  if (nonBlank === 0) {
    findings.push({
      kind: 'empty-file',
      severity: 'error',
      subject,
      path,
      threadId: nameId,
      message: 'the file is empty: no thread can be read from it (never rewritten by doctor)',
      fix: null,
    });
  } else if (!firstLineIsMeta) {
    findings.push({
      kind: 'no-session-meta',
      severity: 'error',
      subject,
      path,
      threadId: nameId,
      message:
        'its first line is not a valid session_meta: the thread cannot be read (never rewritten by doctor)',
      fix: null,
    });
  } else if (scanned.ownId !== nameId) {
    findings.push({
      kind: 'file-id-mismatch',
      severity: 'warning',
      subject,
      path,
      message: `file name says ${nameId} but its session_meta says ${scanned.ownId}`,
      fix: null,
    });
  }
  if (malformed.length > 0) {
    const shown = malformed.slice(0, MAX_LINE_NUMBERS).join(', ');
    findings.push({
      kind: 'malformed-lines',
      severity: 'warning',
      subject,
      path,
      message: `${malformed.length} malformed line${malformed.length === 1 ? '' : 's'} (line ${shown}${malformed.length > MAX_LINE_NUMBERS ? ', …' : ''}); readers skip them; never rewritten`,
      fix: null,
    });
  }
  const torn = tail as TailState | null;
  if (torn) {
    // Tolerated by every reader, and writers terminate the line before their next append;
    // rewriting it would destroy evidence, so it is reported and left alone.
    findings.push({
      kind: torn.parses ? 'unterminated-tail' : 'torn-tail',
      severity: 'warning',
      subject,
      path,
      message: torn.parses
        ? `last line (${torn.line}) has no newline (a writer terminates it before appending)`
        : `last line (${torn.line}, ${torn.bytes} bytes) is torn: incomplete JSON, skipped by readers; never rewritten`,
      fix: null,
    });
  }
  return scanned;
}

/** Where a rollout that is a link (or lies under one) leads, when that is outside the home. */
async function linkOutsideHome(home: string, file: string): Promise<string | null> {
  try {
    const real = await realpath(file);
    if (real === file && !(await lstat(file)).isSymbolicLink()) return null;
    return realPathInHome(home, real) ? null : real;
  } catch {
    return null; // a dangling link reads as a missing file
  }
}
