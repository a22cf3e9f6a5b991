import { StateRuntime } from '@skein/state';
import { installFixtureHome } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryProjector, readProjectableLines } from '../src/index.js';

const opened: StateRuntime[] = [];
afterEach(async () => {
  for (const runtime of opened.splice(0)) await runtime.close();
});

describe('the paginated history projection', () => {
  it("recomputes, from each 0.169 fixture rollout alone, exactly the rows Codex's projection holds", async () => {
    const { home, manifest } = installFixtureHome('codex-0.169');
    const runtime = await StateRuntime.open({ sqliteHome: home });
    opened.push(runtime);
    const history = runtime.historyDb();
    expect(history).toBeDefined();
    const rows = runtime.sqlite
      .prepare('select id, rollout_path from threads order by id')
      .all() as { id: string; rollout_path: string }[];
    expect(rows.length).toBe(manifest.threads.filter((t) => t.persisted).length);
    for (const { id, rollout_path: path } of rows) {
      const lines = await readProjectableLines(path);
      const first = lines[0]!;
      const projector = new HistoryProjector({ nextByteOffset: 0, nextOrdinal: first.ordinal });
      const update = projector.project(lines);
      expect(update.state, id).toEqual(history!.projectionState(id));
      const byOrdinal = <T extends { rolloutOrdinal: number }>(list: readonly T[]) =>
        [...list].sort((a, b) => a.rolloutOrdinal - b.rolloutOrdinal);
      expect(byOrdinal(update.turns), id).toEqual(history!.turns(id));
      expect(byOrdinal([...update.items]), id).toEqual(history!.items(id));
    }
  });

  it('projects a batch fed again only once, and continues across appends', async () => {
    const { home } = installFixtureHome('codex-0.169');
    const runtime = await StateRuntime.open({ sqliteHome: home });
    opened.push(runtime);
    // The multi-turn thread (most lines): a split inside it closes turns across batches.
    const all = runtime.sqlite.prepare('select rollout_path from threads').all() as {
      rollout_path: string;
    }[];
    const sizes = await Promise.all(all.map((r) => readProjectableLines(r.rollout_path)));
    const longest = sizes.reduce((a, b) => (b.length > a.length ? b : a));
    const path = all[sizes.indexOf(longest)]!.rollout_path;
    const lines = await readProjectableLines(path);
    const whole = new HistoryProjector({ nextByteOffset: 0, nextOrdinal: 0 }).project(lines);
    const split = new HistoryProjector({ nextByteOffset: 0, nextOrdinal: 0 });
    const half = Math.floor(lines.length / 2);
    const a = split.project(lines.slice(0, half + 2));
    const b = split.project(lines); // overlaps the first batch: already projected lines skipped
    expect(b.state).toEqual(whole.state);
    expect([...a.items, ...b.items]).toEqual(whole.items);
    expect(b.expected).toEqual(a.state);
  });
});
