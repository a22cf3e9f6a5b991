/**
 * What `skein doctor` reports, shared by the packages that own the data: each check family
 * (state DB, rollout files, rows, names, projection, lineage) returns findings of this shape,
 * and the CLI only renders them.
 */

/**
 * `error`: drift or damage (doctor exits 5 while one remains); `warning`: tolerated and
 * reported; `info`: a fact worth knowing that needs no action.
 */
export type DoctorSeverity = 'error' | 'warning' | 'info';

/**
 * One thing `skein doctor` found: its kind, severity, where (a home-relative path or a thread id),
 * what it means, and the repair `repairHome` would make, if any.
 */
export interface DoctorFinding<K extends string = string> {
  kind: K;
  severity: DoctorSeverity;
  /** A home-relative path or a thread id. */
  subject: string;
  message: string;
  /** What `--repair` does about it, or null when nothing can be done without losing data. */
  fix: string | null;
  /** The thread concerned, when there is one. */
  threadId?: string;
  /** The file concerned (absolute, inside the home). */
  path?: string;
  /** Where a repair points a row (absolute, inside the home). */
  target?: string;
  /** The name a repair writes. */
  name?: string;
}
