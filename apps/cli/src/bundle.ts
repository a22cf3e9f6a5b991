import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * The portable export format: one JSON document holding a thread (or a thread and all its
 * sub-agent threads) with each rollout file's exact bytes, its place in the home, its name
 * and archived state, and a SHA-256 per file so an import can prove it wrote what was
 * exported. Versioned; an import refuses versions it does not know.
 */
export const BUNDLE_FORMAT = 'skein.thread-bundle';
export const BUNDLE_VERSION = 1;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** Where a rollout may live, relative to the home: never outside it, never anywhere else. */
const RELATIVE_ROLLOUT_PATH =
  /^(sessions\/\d{4}\/\d{2}\/\d{2}|archived_sessions)\/rollout-[0-9A-Za-z_.:-]+\.jsonl(\.zst)?$/;

export const BundleThreadSchema = z.strictObject({
  id: z.string().regex(UUID, 'a lowercase UUID'),
  name: z.string().nullable(),
  archived: z.boolean(),
  parentThreadId: z.string().regex(UUID).nullable(),
  forkedFromId: z.string().regex(UUID).nullable(),
  /** `sessions/YYYY/MM/DD/<file>` or `archived_sessions/<file>`, `/`-separated. */
  relativePath: z
    .string()
    .regex(RELATIVE_ROLLOUT_PATH, 'sessions/YYYY/MM/DD/rollout-….jsonl or archived_sessions/…'),
  /** The file's modification time, restored on import (Codex derives `updatedAt` from it). */
  mtimeMs: z.number().nonnegative(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(SHA256),
  /** `utf8` when the bytes are valid UTF-8 (readable), else `base64` (torn or compressed). */
  encoding: z.enum(['utf8', 'base64']),
  content: z.string(),
  /** The thread as `skein show --json` reports it; informational, never trusted on import. */
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
export type BundleThread = z.infer<typeof BundleThreadSchema>;

export const BundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  exportedAt: z.string(),
  exporter: z.strictObject({ name: z.string(), version: z.string() }),
  rootThreadId: z.string().regex(UUID),
  /** True when the root's sub-agent descendants are included. */
  tree: z.boolean(),
  threads: z.array(BundleThreadSchema).min(1),
});
export type Bundle = z.infer<typeof BundleSchema>;

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Encodes file bytes for the bundle: readable text when that is lossless, else base64. */
export function encodeContent(bytes: Buffer): { encoding: 'utf8' | 'base64'; content: string } {
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(bytes)) return { encoding: 'utf8', content: text };
  return { encoding: 'base64', content: bytes.toString('base64') };
}

export function decodeContent(thread: Pick<BundleThread, 'encoding' | 'content'>): Buffer {
  return thread.encoding === 'utf8'
    ? Buffer.from(thread.content, 'utf8')
    : Buffer.from(thread.content, 'base64');
}

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** Parses and verifies a bundle: shape, version, sizes and hashes, unique ids and paths. */
export function parseBundle(text: string): { bundle: Bundle; files: Map<string, Buffer> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`not a JSON document (${(error as Error).message})`);
  }
  if (typeof json === 'object' && json !== null && 'format' in json) {
    const { format, version } = json as { format: unknown; version: unknown };
    if (format === BUNDLE_FORMAT && version !== BUNDLE_VERSION) {
      throw new BundleError(
        `bundle version ${String(version)} is not supported (this skein reads version ${BUNDLE_VERSION})`,
      );
    }
  }
  const parsed = BundleSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new BundleError(`not a valid skein thread bundle: ${issues.join('; ')}`);
  }
  const bundle = parsed.data;
  const files = new Map<string, Buffer>();
  const seenPaths = new Set<string>();
  for (const thread of bundle.threads) {
    if (files.has(thread.id)) throw new BundleError(`thread ${thread.id} appears twice`);
    if (seenPaths.has(thread.relativePath)) {
      throw new BundleError(`two threads share the path ${thread.relativePath}`);
    }
    seenPaths.add(thread.relativePath);
    if (!thread.relativePath.includes(thread.id)) {
      throw new BundleError(
        `thread ${thread.id}: file name ${thread.relativePath} names another id`,
      );
    }
    const archivedPath = thread.relativePath.startsWith('archived_sessions/');
    if (archivedPath !== thread.archived) {
      throw new BundleError(`thread ${thread.id}: archived flag disagrees with its path`);
    }
    const bytes = decodeContent(thread);
    if (bytes.length !== thread.size || sha256Hex(bytes) !== thread.sha256) {
      throw new BundleError(
        `thread ${thread.id}: content does not match its size/sha256 (damaged bundle)`,
      );
    }
    files.set(thread.id, bytes);
  }
  if (!files.has(bundle.rootThreadId)) {
    throw new BundleError(`root thread ${bundle.rootThreadId} is not in the bundle`);
  }
  return { bundle, files };
}
