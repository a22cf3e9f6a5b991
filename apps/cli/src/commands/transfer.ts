import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  link,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { parseRolloutFileName, readSessionMetaLine, resolveRolloutFile } from '@skein/rollout';
import { linkOutsideHomeMessage, rolloutLinkOutsideHome, type ThreadId } from '@skein/thread-store';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type Bundle,
  BundleError,
  type BundleThread,
  encodeContent,
  parseBundle,
  sha256Hex,
} from '../bundle.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import { formatBytes } from '../format.js';
import { type CliIo, resolvePath } from '../io.js';
import { toThreadJson } from '../thread-json.js';
import { SKEIN_VERSION } from '../version.js';

export interface ExportOptions {
  json?: boolean;
  tree?: boolean;
  output?: string;
  force?: boolean;
}

/** Where a rollout sits in its home, `/`-separated; canonical place if it lies outside. */
function relativeRolloutPath(home: string, file: string, archived: boolean): string {
  const rel = relative(home, file);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  const name = basename(file);
  if (archived) return `archived_sessions/${name}`;
  const parsed = parseRolloutFileName(name);
  if (!parsed) throw CliError.failure(`cannot place ${file} in a home: not a rollout file name`);
  return `sessions/${parsed.dateParts.join('/')}/${name}`;
}

export async function buildBundle(
  ctx: CommandContext,
  rootId: ThreadId,
  tree: boolean,
): Promise<Bundle> {
  const services = await ctx.services();
  const ids = tree ? await services.subtreeIds(rootId) : [rootId];
  const threads: BundleThread[] = [];
  for (const threadId of ids) {
    const thread = await services.store.readThread({
      threadId,
      includeArchived: true,
      includeHistory: false,
    });
    if (!thread.rolloutPath)
      throw CliError.failure(`thread ${threadId} has no rollout file to export`);
    const file = await resolveRolloutFile(thread.rolloutPath);
    if (!file)
      throw CliError.notFound(
        `rollout file of thread ${threadId} is missing: ${thread.rolloutPath}`,
      );
    // Never put a file from outside the home in a bundle (a link out of it).
    const outside = await rolloutLinkOutsideHome(services.home, file);
    if (outside !== null)
      throw CliError.refused(linkOutsideHomeMessage(services.home, file, outside));
    const bytes = await readFile(file);
    const info = await stat(file);
    const archived = /[\\/]archived_sessions[\\/]/.test(file);
    threads.push({
      id: threadId,
      name: thread.name,
      archived,
      parentThreadId: thread.parentThreadId,
      forkedFromId: thread.forkedFromId,
      relativePath: relativeRolloutPath(services.home, file, archived),
      mtimeMs: Math.floor(info.mtimeMs),
      size: bytes.length,
      sha256: sha256Hex(bytes),
      ...encodeContent(bytes),
      metadata: { ...toThreadJson(thread) },
    });
  }
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    exportedAt: new Date().toISOString(),
    exporter: { name: 'skein', version: SKEIN_VERSION },
    rootThreadId: rootId,
    tree,
    threads,
  };
}

export async function runExport(
  ctx: CommandContext,
  ref: string,
  options: ExportOptions,
): Promise<ExitCode> {
  const rootId = await ctx.resolveThread(ref);
  const bundle = await buildBundle(ctx, rootId, options.tree === true);
  const text = `${JSON.stringify(bundle)}\n`;
  const toStdout =
    options.output === '-' ||
    (options.output === undefined && !ctx.out.stdoutIsTty && !ctx.out.json);
  if (toStdout) {
    ctx.out.stdout.write(text);
    ctx.out.note(`exported ${bundle.threads.length} thread(s) to stdout`);
    return EXIT.ok;
  }
  const file = options.output ?? `skein-${rootId}.json`;
  const path = resolvePath(ctx.io, file);
  if (existsSync(path) && !options.force) {
    throw CliError.refused(`${file} already exists (pass --force to overwrite it)`);
  }
  await writeFile(path, text);
  const summary = {
    file,
    bytes: Buffer.byteLength(text),
    rootThreadId: rootId,
    threads: bundle.threads.map((t) => ({ id: t.id, name: t.name, archived: t.archived })),
  };
  if (ctx.out.json) ctx.out.printJson(summary);
  else {
    ctx.out.line(
      `Exported ${bundle.threads.length} thread${bundle.threads.length === 1 ? '' : 's'} to ${file} (${formatBytes(summary.bytes)}).`,
    );
  }
  return EXIT.ok;
}

export interface ImportOptions {
  json?: boolean;
}

async function readInput(io: CliIo, file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(resolvePath(io, file), 'utf8');
  } catch (error) {
    throw CliError.usage(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Writes `bytes` at `target` only if nothing is there (link from a temp file: no clobber). */
async function writeNoClobber(target: string, bytes: Buffer, mtimeMs: number): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, bytes, { flag: 'wx' });
  try {
    const seconds = mtimeMs / 1000;
    await utimes(temp, seconds, seconds);
    await link(temp, target);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * What an entry says against what its rollout holds, checked before anything is written: the
 * file name must name the entry's thread and the rollout's first line must be a session_meta
 * with the same id (entry ids are unique, so no two entries hold one thread). An entry id is
 * only a label: trusting it let a bundle write a second rollout for an existing thread and
 * show that thread under another id.
 */
async function contentMismatches(bundle: Bundle, files: Map<string, Buffer>): Promise<string[]> {
  const problems: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'skein-import-check-'));
  try {
    for (const [index, thread] of bundle.threads.entries()) {
      const named = parseRolloutFileName(basename(thread.relativePath))?.threadId ?? null;
      if (named !== thread.id) {
        problems.push(
          `${thread.id}: its file name ${basename(thread.relativePath)} names thread ${named ?? 'none'}`,
        );
        continue;
      }
      // Read as the readers read it (plain or .zst), from a private copy.
      const copy = join(dir, `${index}-${basename(thread.relativePath)}`);
      await writeFile(copy, files.get(thread.id)!);
      let metaId: string;
      try {
        metaId = String((await readSessionMetaLine(copy)).id).toLowerCase();
      } catch (error) {
        problems.push(
          `${thread.id}: ${(error as Error).message.replace(copy, thread.relativePath)}`,
        );
        continue;
      }
      if (metaId !== thread.id)
        problems.push(`${thread.id}: its rollout's session_meta is thread ${metaId}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return problems;
}

export async function runImport(
  ctx: CommandContext,
  file: string,
  _options: ImportOptions,
): Promise<ExitCode> {
  const text = await readInput(ctx.io, file);
  let parsed: ReturnType<typeof parseBundle>;
  try {
    parsed = parseBundle(text);
  } catch (error) {
    if (error instanceof BundleError) throw CliError.usage(`${file}: ${error.message}`);
    throw error;
  }
  const { bundle, files } = parsed;
  const services = await ctx.services();
  const home = services.home;

  // Refuse before writing anything: each rollout must be the thread its entry names.
  const mismatches = await contentMismatches(bundle, files);
  if (mismatches.length > 0) {
    throw CliError.refused(
      `nothing imported: ${mismatches.length} bundle entr${mismatches.length === 1 ? 'y does' : 'ies do'} not hold the thread ${mismatches.length === 1 ? 'it names' : 'they name'}`,
      mismatches,
    );
  }

  // An import never overwrites or merges into a thread.
  const clashes: string[] = [];
  for (const thread of bundle.threads) {
    const target = join(home, ...thread.relativePath.split('/'));
    if (await services.threadExists(thread.id as ThreadId))
      clashes.push(`${thread.id} already exists in ${home}`);
    else if (existsSync(target) || existsSync(`${target}.zst`))
      clashes.push(`${thread.relativePath} already exists`);
  }
  if (clashes.length > 0) {
    throw CliError.refused(
      `nothing imported: ${clashes.length} thread(s) already exist here`,
      clashes,
    );
  }

  const written: string[] = [];
  try {
    for (const thread of bundle.threads) {
      const target = join(home, ...thread.relativePath.split('/'));
      await writeNoClobber(target, files.get(thread.id)!, thread.mtimeMs);
      written.push(target);
    }
  } catch (error) {
    // Roll back only the files this import created, then report.
    for (const path of written) await unlink(path).catch(() => undefined);
    throw CliError.failure(`import failed, nothing kept: ${(error as Error).message}`, error);
  }

  // Index the new files, then restore names (name index + DB), parents first.
  for (const thread of bundle.threads) {
    const target = join(home, ...thread.relativePath.split('/'));
    await services.indexRolloutFile(target, thread.archived);
  }
  for (const thread of bundle.threads) {
    if (thread.name !== null)
      await services.setThreadName(thread.id as ThreadId, thread.name, { includeArchived: true });
  }

  // Prove the transcripts are the exported bytes.
  for (const thread of bundle.threads) {
    const target = join(home, ...thread.relativePath.split('/'));
    const bytes = await readFile(target);
    if (sha256Hex(bytes) !== thread.sha256) {
      throw CliError.failure(`verification failed: ${target} differs from the bundle`);
    }
  }

  const summary = {
    rootThreadId: bundle.rootThreadId,
    home,
    threads: bundle.threads.map((t) => ({
      id: t.id,
      name: t.name,
      archived: t.archived,
      path: t.relativePath,
    })),
  };
  if (ctx.out.json) ctx.out.printJson(summary);
  else {
    ctx.out.line(
      `Imported ${bundle.threads.length} thread${bundle.threads.length === 1 ? '' : 's'} into ${home}:`,
    );
    for (const t of bundle.threads) {
      ctx.out.line(
        `  ${t.id}${t.name ? ` "${t.name}"` : ''}${t.archived ? ctx.out.color.yellow(' (archived)') : ''}`,
      );
    }
  }
  return EXIT.ok;
}
