/**
 * zod building blocks whose failures read like the serde messages the Codex app-server sends
 * (`missing field \`threadId\``, `invalid type: string "x", expected a boolean`, ...). The
 * first issue of a failed parse becomes `Invalid request: <message>` (spec §0.2).
 */
import type { ZodType } from 'zod';
import * as z from 'zod';

/** Marker message for an absent required key; the formatter adds the key from the issue path. */
const MISSING = '\u0000missing';

/** How serde names a JSON value in `invalid type:` / `invalid value:` messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
  }
  if (Array.isArray(value)) return 'sequence';
  return 'map';
}

function invalidType(value: unknown, expected: string): string {
  return `invalid type: ${describeValue(value)}, expected ${expected}`;
}

/** A leaf validated by `check`, which returns an error message or null. */
function leaf<T>(check: (value: unknown) => string | null): ZodType<T> {
  return z.unknown().superRefine((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: MISSING });
      return;
    }
    const problem = check(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  }) as unknown as ZodType<T>;
}

/** A string, refused in serde's words (`invalid type: integer `5`, expected a string`). */
export function str(): ZodType<string> {
  return leaf((v) => (typeof v === 'string' ? null : invalidType(v, 'a string')));
}

/** A boolean, refused in serde's words. */
export function bool(): ZodType<boolean> {
  return leaf((v) => (typeof v === 'boolean' ? null : invalidType(v, 'a boolean')));
}

/** An unsigned 32-bit integer, refused in serde's words. */
export function u32(): ZodType<number> {
  return leaf((v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return invalidType(v, 'u32');
    if (v < 0 || v > 0xffff_ffff) return `invalid value: ${describeValue(v)}, expected u32`;
    return null;
  });
}

/** A signed 64-bit integer (a safe JS integer), refused in serde's words. */
export function i64(): ZodType<number> {
  return leaf((v) => (typeof v === 'number' && Number.isInteger(v) ? null : invalidType(v, 'i64')));
}

function expectedVariants(values: readonly string[]): string {
  const quoted = values.map((v) => `\`${v}\``);
  if (quoted.length === 1) return quoted[0] ?? '';
  if (quoted.length === 2) return `${quoted[0]} or ${quoted[1]}`;
  return `one of ${quoted.join(', ')}`;
}

/** A unit-variant enum: `unknown variant \`x\`, expected one of ...`. */
export function variant<const T extends readonly string[]>(values: T): ZodType<T[number]> {
  return leaf((v) => {
    if (typeof v !== 'string') return invalidType(v, 'variant identifier');
    if (values.includes(v)) return null;
    return `unknown variant \`${v}\`, expected ${expectedVariants(values)}`;
  });
}

/** Any JSON value (free-form config, raw response items). */
export function json(): ZodType<unknown> {
  return leaf(() => null);
}

/** A map of free-form values (`config` overrides). */
export function jsonObject(): ZodType<Record<string, unknown>> {
  return leaf((v) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? null : invalidType(v, 'a map'),
  );
}

/** A sequence of `item`, refused in serde's words (`expected a sequence`). */
export function seq<T>(item: ZodType<T>): ZodType<T[]> {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === undefined) ctx.addIssue({ code: 'custom', message: MISSING });
      else if (!Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: invalidType(value, 'a sequence') });
      }
    })
    .pipe(z.array(item)) as unknown as ZodType<T[]>;
}

/** An untagged enum: the first alternative that parses wins. */
export function untagged<T>(name: string, alternatives: readonly ZodType<T>[]): ZodType<T> {
  return leaf<T>((v) =>
    alternatives.some((alt) => alt.safeParse(v).success)
      ? null
      : `data did not match any variant of untagged enum ${name}`,
  );
}

/** serde's `Option<T>`: absent or `null` both mean "none" (normalised to undefined). */
export function opt<T>(inner: ZodType<T>): ZodType<T | undefined> {
  const optional = inner.optional() as unknown as z.ZodType<unknown, unknown>;
  // The outer `optional()` lets an object skip the absent key; `null` is folded into absent.
  return z
    .unknown()
    .transform((v) => (v === null ? undefined : v))
    .pipe(optional as never)
    .optional() as unknown as ZodType<T | undefined>;
}

/** serde's `Option<Option<T>>` (tri-state): absent = undefined, `null` kept as null. */
export function clearable<T>(inner: ZodType<T>): ZodType<T | null | undefined> {
  return inner.nullable().optional() as unknown as ZodType<T | null | undefined>;
}

/** A struct: an object (unknown keys ignored, as serde does) with these fields. */
export function struct<S extends z.ZodRawShape>(name: string, shape: S) {
  const object = z.object(shape);
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === undefined) ctx.addIssue({ code: 'custom', message: MISSING });
      else if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: invalidType(value, `struct ${name}`) });
      }
    })
    .pipe(object);
}

/** The serde-style text of a failed parse (first issue only, as serde stops at the first). */
export function serdeMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request';
  if (issue.message === MISSING) {
    const key = issue.path.at(-1);
    return `missing field \`${String(key ?? 'params')}\``;
  }
  return issue.message;
}
