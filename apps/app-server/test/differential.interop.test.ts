/**
 * Differential test on generated request sequences: for each fixture home, a sequence is
 * generated from what the home holds (test/support/diff/generator.ts), played on the real
 * `codex app-server` 0.169.0 and on Skein's built server (each on its own fresh copy of the
 * home), and compared after normalizing only generated ids, run-time timestamps and the temp
 * paths. Every difference must be one of the single-step, single-path entries of
 * test/support/diff/known-differences.ts. `SKEIN_DIFF_SEED` picks another sequence.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FixtureName } from '@skein/test-support';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { groupDifferences } from './support/diff/compare.js';
import { checkKnownDifferences, KNOWN_DIFFERENCES } from './support/diff/known-differences.js';
import { type DifferentialRun, runDifferential } from './support/diff/run.js';
import { skeinBuilt } from './support/diff/runner.js';
import { codexSchema } from './support/schema.js';

const schema = codexSchema(inject('codexSchemaDir'));
/** A seed asked for runs each home once with it; else each home's own seeds run. */
const ASKED_SEED =
  process.env.SKEIN_DIFF_SEED === undefined ? undefined : Number(process.env.SKEIN_DIFF_SEED);
/**
 * The 0.169 home as it is (no config.toml: 0.169.0's built-in defaults), the 0.131 home with
 * a config.toml setting what start/resume/fork echo.
 *
 * The 0.169 home answers like 0.169.0 but for the known differences (each one step and one
 * path; none are left): on seed 1 every difference must be one of them, and every one of them
 * must still occur (a fixed difference leaves the list). The 0.131 home is a ratchet on the
 * agreement share: new threads there are legacy threads in Skein (the 0.131 schema has no
 * history mode; ARCHITECTURE decision 3) where 0.169.0, which migrates the DB, writes paginated
 * ones (DIFFERENCES.md §2).
 */
const HOMES: {
  home: FixtureName;
  seed: number;
  configToml?: string;
  floor: number;
  allKnown: boolean;
}[] = [
  { home: 'codex-0.169', seed: 1, floor: 98, allKnown: true },
  // A second sequence: what one seed never asks, another does (seed 2 caught a listing that
  // skipped a re-derive codex does, its cursors 10 ms behind after 330 steps).
  { home: 'codex-0.169', seed: 2, floor: 98, allKnown: true },
  {
    home: 'codex-0.131',
    seed: 1,
    floor: 95,
    allKnown: false,
    configToml: [
      'approval_policy = "never"',
      'sandbox_mode = "workspace-write"',
      'approvals_reviewer = "auto_review"',
      'model = "config-model"',
      'model_reasoning_effort = "high"',
      'service_tier = "flex"',
      '',
    ].join('\n'),
  },
];

function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

it('keeps every known difference to one step (or one kind and role) and one exact path', () => {
  expect(checkKnownDifferences(KNOWN_DIFFERENCES)).toEqual([]);
});

const RUNS =
  ASKED_SEED === undefined
    ? HOMES
    : HOMES.filter((h) => h.seed === 1).map((h) => ({ ...h, seed: ASKED_SEED }));

describe.each(RUNS)(
  'generated sequence $seed on the $home home',
  ({ home, seed: SEED, configToml, floor, allKnown }) => {
    let run: DifferentialRun;

    beforeAll(async () => {
      if (!skeinBuilt()) throw new Error('build the app-server first: pnpm build');
      run = await runDifferential({ home, seed: SEED, ...(configToml ? { configToml } : {}) });
    }, 300_000);

    it('covers the thread API with a long sequence', () => {
      const methods = new Set(run.comparison.steps.map((s) => s.method));
      for (const method of [
        'thread/list',
        'thread/read',
        'thread/turns/list',
        'thread/items/list',
        'thread/loaded/list',
        'thread/name/set',
        'thread/metadata/update',
        'thread/archive',
        'thread/unarchive',
        'thread/delete',
        'thread/resume',
        'thread/fork',
        'thread/unsubscribe',
        'thread/start',
      ]) {
        expect(methods).toContain(method);
      }
      expect(run.comparison.total).toBeGreaterThan(400);
    });

    /**
     * Issue 13 aims at 95% and then at no difference but the single-step known ones; while the
     * rest is worked off this is a ratchet: agreement never falls below what it has reached, and
     * every difference is written to a grouped report.
     */
    it('agrees with codex 0.169.0 on at least the share of steps reached so far', () => {
      const { comparison } = run;
      const lines = [
        `${run.home} seed ${SEED}: ${comparison.agreeing}/${comparison.total} steps agree (${comparison.agreement.toFixed(1)}%)`,
      ];
      for (const group of groupDifferences(comparison)) {
        const e = group.example;
        lines.push(
          `${group.method} ${group.path}: ${group.steps} step(s); e.g. [${e.label}] codex ${show(e.codex)} | skein ${show(e.skein)}`,
        );
      }
      const file = join(tmpdir(), `skein-differential-${home}-seed${SEED}.txt`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      console.info(`${lines[0]} (report: ${file})`);
      expect(comparison.agreement, `grouped report: ${file}`).toBeGreaterThanOrEqual(floor);
    });

    it.runIf(allKnown)(
      'differs from codex 0.169.0 only by the known differences, each of which still occurs',
      () => {
        const { comparison } = run;
        expect(
          comparison.unexplained.map(
            (u) => `${u.label} ${u.path}: ${show(u.codex)} | ${show(u.skein)}`,
          ),
        ).toEqual([]);
        // The known list names seed 1's steps.
        if (SEED !== 1) return;
        const labels = new Set(comparison.steps.map((s) => s.label));
        const stale = KNOWN_DIFFERENCES.filter(
          (entry) =>
            entry.step !== undefined && labels.has(entry.step) && !comparison.usedKnown.has(entry),
        );
        expect(stale.map((entry) => `${entry.step} ${entry.path}`)).toEqual([]);
      },
    );

    it("sends only answers and notifications the real binary's schema accepts", () => {
      const before = schema.checked;
      for (const step of run.recording.steps) {
        const response = step.skein.response;
        if (response === undefined) continue;
        if ('error' in response || schema.knowsResponse(step.method))
          schema.response(step.method, response);
        for (const n of step.skein.notifications) {
          if (schema.knowsNotification(n.method))
            schema.notification({ method: n.method, params: n.params, emittedAtMs: n.emittedAtMs });
        }
      }
      expect(schema.checked - before).toBeGreaterThan(run.recording.steps.length / 2);
    });
  },
);
