import { relative } from 'node:path';
import {
  diagnoseHome,
  type HomeDiagnosis,
  type HomeFinding,
  type HomeFindingKind,
  type RepairedFinding,
  repairHome,
} from '@skein/rollout';
import type { CommandContext } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { formatBytes, plural } from '../format.js';

/**
 * `skein doctor`: renders what the rollout and state packages find in a home (drift between
 * the rollouts, `session_index.jsonl` and Codex's own DBs) and, with `--repair`, what their
 * repairs fixed. The checks and repairs live with the data (`diagnoseHome` / `repairHome`);
 * this file only prints them and maps the exit code: 5 while a problem remains.
 */

export interface DoctorOptions {
  json?: boolean;
  repair?: boolean;
}

/** A finding as reported: after `--repair`, whether it was repaired. */
type Reported = HomeFinding & { repaired?: boolean; repairError?: string };

export async function runDoctor(ctx: CommandContext, options: DoctorOptions): Promise<ExitCode> {
  const { path: home, sqliteHome, defaultProvider } = await ctx.home();
  const doctor = { codexHome: home, sqliteHome, defaultProvider };
  if (options.repair !== true) {
    const diagnosis = await diagnoseHome(doctor);
    return report(ctx, diagnosis, diagnosis.findings, diagnosis.findings, false);
  }
  const repair = await repairHome(doctor);
  // What the repairs revealed (e.g. rows a rebuilt DB lacks names for) is reported too.
  const before = new Set(repair.findings.map(keyOf));
  const revealed: RepairedFinding[] = repair.after.findings
    .filter((finding) => !before.has(keyOf(finding)))
    .map((finding) => ({ ...finding, repaired: false }));
  return report(ctx, repair.after, [...repair.findings, ...revealed], repair.after.findings, true);
}

function keyOf(finding: HomeFinding): string {
  return `${finding.kind}\u0000${finding.subject}`;
}

function report(
  ctx: CommandContext,
  state: HomeDiagnosis,
  findings: readonly Reported[],
  remainingFindings: readonly HomeFinding[],
  repair: boolean,
): ExitCode {
  const out = ctx.out;
  const remaining = remainingFindings.filter((f) => f.severity === 'error');
  const repaired = findings.filter((f) => f.repaired === true);
  const exitCode = remaining.length > 0 ? EXIT.problems : EXIT.ok;
  if (out.json) {
    out.printJson({
      home: state.home,
      ok: remaining.length === 0,
      files: state.files,
      stateDb: state.stateDb,
      findings,
      repaired: repaired.length,
      remainingProblems: remaining.length,
    });
    return exitCode;
  }
  const c = out.color;
  const db = state.stateDb;
  const rel = (path: string) => relative(state.home, path) || path;
  out.line(`${c.bold('Codex home')}   ${state.home}`);
  out.line(
    `${c.bold('Rollouts')}     ${plural(state.files.checked, 'file')} (${state.files.active} active, ${state.files.archived} archived), ${formatBytes(state.files.bytes)}`,
  );
  out.line(
    `${c.bold('State DB')}     ${
      db.exists
        ? `${rel(db.path)}: ${db.schema ?? 'unreadable'}, ${plural(db.rows, 'row')}, integrity ${db.integrity ?? '?'}, backfill ${db.backfill ?? '?'}${db.readOnlyReason ? `, read-only for Skein (${db.readOnlyReason})` : ''}`
        : 'none yet'
    }`,
  );
  if (db.historyDb.exists) {
    out.line(
      `${c.bold('History DB')}   ${rel(db.historyDb.path)}: ${db.historyDb.schema ?? 'unreadable'}`,
    );
  }
  const print = (finding: Reported) => {
    const mark = finding.repaired
      ? c.green('✓')
      : finding.severity === 'error'
        ? c.red('✗')
        : finding.severity === 'warning'
          ? c.yellow('!')
          : c.dim('i');
    out.line(`  ${mark} ${c.bold(finding.kind)}  ${finding.subject}`);
    out.line(`      ${finding.message}`);
    if (finding.repaired) out.line(`      ${c.green(`repaired: ${finding.fix ?? ''}`)}`);
    else if (finding.repairError)
      out.line(`      ${c.red(`repair failed: ${finding.repairError}`)}`);
    else if (finding.fix && !repair) out.line(`      ${c.dim(`--repair: ${finding.fix}`)}`);
  };
  const sections: [string, Reported[]][] = [
    ['Problems', findings.filter((f) => f.severity === 'error')],
    ['Warnings', findings.filter((f) => f.severity === 'warning')],
    ['Notes', findings.filter((f) => f.severity === 'info')],
  ];
  for (const [title, list] of sections) {
    if (list.length === 0) continue;
    out.line();
    out.line(c.bold(`${title} (${list.length})`));
    printCapped(list, print, out);
  }
  out.line();
  const warnings = remainingFindings.filter((f) => f.severity === 'warning').length;
  if (findings.length === 0) out.line(c.green('No problems found.'));
  else if (repair) {
    out.line(
      `${plural(repaired.length, 'repair')} made; ${remaining.length === 0 ? c.green('no problems remain.') : c.red(`${plural(remaining.length, 'problem')} remain (not repairable without losing data, or only by restoring a rollout).`)}`,
    );
  } else if (remaining.length > 0) {
    const fixable = remaining.filter((f) => f.fix).length;
    out.line(
      `${c.red(plural(remaining.length, 'problem'))} found; ${fixable} can be fixed by ${c.bold('skein doctor --repair')}.`,
    );
  } else out.line(`${c.green('No problems found')} (${plural(warnings, 'warning')}).`);
  return exitCode;
}

/** Findings shown per kind in the human report; `--json` always has all of them. */
const SHOWN_PER_KIND = 10;

function printCapped(
  findings: readonly Reported[],
  print: (finding: Reported) => void,
  out: CommandContext['out'],
): void {
  const shown = new Map<HomeFindingKind, number>();
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
