/**
 * A request sequence: steps whose params are JSON templates. A template may refer to an
 * earlier answer of the same side (`{ $ref: label, path }`), so cursors and fresh thread ids
 * flow from one step to the next on each server independently.
 */

/** Takes a value out of an earlier step's answer on the same side. */
export interface Ref {
  $ref: string;
  /** Dotted path into the answer message, e.g. `result.nextCursor`, `result.data[0].id`. */
  path: string;
}

export type Template =
  | null
  | boolean
  | number
  | string
  | Ref
  | readonly Template[]
  | { readonly [key: string]: Template | undefined };

export interface Step {
  /** Unique within the sequence and stable for a given home and seed. */
  label: string;
  /** What the step exercises (`list`, `read-turns`, `name-set`, ...), for grouping. */
  kind: string;
  /** Role of the thread the step targets (`fork`, `spawnParent`, `fresh`, ...), or null. */
  role: string | null;
  method: string;
  /** Omitted: the request is sent without a `params` member. */
  params?: Template;
  /**
   * Page on: after this step, repeat it with `cursor` set to the previous answer's value at
   * `cursorPath`, as long as either side still has one (at most `max` pages in all). Pages
   * are labelled `<label> #<n>`; `<label> #last` names the last page a side answered.
   */
  pages?: { cursorPath: string; max: number };
}

export function ref(label: string, path: string): Ref {
  return { $ref: label, path };
}

export function isRef(value: unknown): value is Ref {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { $ref?: unknown }).$ref === 'string' &&
    typeof (value as { path?: unknown }).path === 'string'
  );
}

/** The value at a dotted path (`a.b[2].c`), or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (value === null || value === undefined) return undefined;
    if (part.startsWith('[')) {
      if (!Array.isArray(value)) return undefined;
      value = value[Number(part.slice(1, -1))];
    } else {
      if (typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[part];
    }
  }
  return value;
}

export class UnresolvedRef extends Error {}

/** Fills a template from this side's earlier answers; throws UnresolvedRef if one is missing. */
export function resolveTemplate(
  template: Template | undefined,
  answers: ReadonlyMap<string, unknown>,
): unknown {
  if (template === undefined) return undefined;
  if (isRef(template)) {
    const value = valueAt(answers.get(template.$ref), template.path);
    if (value === undefined || value === null)
      throw new UnresolvedRef(`${template.$ref} → ${template.path}`);
    return value;
  }
  if (Array.isArray(template)) return template.map((entry) => resolveTemplate(entry, answers));
  if (typeof template === 'object' && template !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(template)) {
      if (entry !== undefined) out[key] = resolveTemplate(entry as Template, answers);
    }
    return out;
  }
  return template;
}

/** The template as compact text, refs shown as `<label → path>` (labels, reports). */
export function describeTemplate(template: Template | undefined): string {
  if (template === undefined) return '(no params)';
  return JSON.stringify(template, (_key, value: unknown) =>
    isRef(value) ? `<${value.$ref} → ${value.path}>` : value,
  );
}
