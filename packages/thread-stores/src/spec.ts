/**
 * What a store spec names: `home` (a Codex home path; `local` or empty = the default home),
 * `memory` (an in-process store), `postgres` (`postgres://…`) or `grpc` (`grpc://host:port`,
 * `grpcs://host:port`).
 */
export type ThreadStoreKind = 'home' | 'memory' | 'postgres' | 'grpc';

/** The kind of store a spec names, by its scheme. */
export function threadStoreKindOf(spec: string): ThreadStoreKind {
  if (/^postgres(ql)?:\/\//i.test(spec)) return 'postgres';
  if (/^grpcs?:\/\//i.test(spec)) return 'grpc';
  if (spec === 'memory') return 'memory';
  return 'home';
}
