import * as z from 'zod';
import type { ClearableField } from './field-patch.js';

/** A thread's git facts as stored: commit, branch, repository URL (each may be unknown). */
export interface GitInfo {
  commitHash: string | null;
  branch: string | null;
  repositoryUrl: string | null;
}

/** A change to a thread's git facts: each key absent (unchanged), null (cleared) or a value. */
export interface GitInfoPatch {
  sha?: ClearableField<string>;
  branch?: ClearableField<string>;
  originUrl?: ClearableField<string>;
}

/** Zod schema of `GitInfo`: validates one where it enters (a wire, a file, a config). */
export const gitInfoSchema = z.object({
  commitHash: z.string().nullable(),
  branch: z.string().nullable(),
  repositoryUrl: z.string().nullable(),
}) satisfies z.ZodType<GitInfo>;

/** Zod schema of a `ClearableField`: absent stays absent (never `undefined`), `null` clears. */
export function clearableFieldSchema<T extends z.ZodType>(schema: T) {
  return schema.nullable().exactOptional();
}

/** Zod schema of `GitInfoPatch`: validates one where it enters (a wire, a file, a config). */
export const gitInfoPatchSchema = z.object({
  sha: clearableFieldSchema(z.string()),
  branch: clearableFieldSchema(z.string()),
  originUrl: clearableFieldSchema(z.string()),
}) satisfies z.ZodType<GitInfoPatch>;
