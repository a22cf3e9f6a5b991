/**
 * A Codex home with many threads (legacy rollouts as Codex 0.131 writes them, a user and an
 * agent message each), for what only a large home shows: streaming, pipes, hidden counts.
 * Every `hiddenEvery`-th thread is an `exec` thread of another provider (hidden by `list`'s
 * defaults).
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function uuid(i: number): string {
  return `01a20154-${(i >> 16).toString(16).padStart(4, '0')}-7${(i & 0xfff).toString(16).padStart(3, '0')}-8000-${i.toString(16).padStart(12, '0')}`;
}

export interface BigHome {
  threads: number;
  /** Threads `list`'s default source/provider filters hide. */
  hidden: number;
}

export function writeBigHome(home: string, threads: number, hiddenEvery = 5): BigHome {
  const start = Date.UTC(2026, 0, 1);
  let hidden = 0;
  for (let i = 0; i < threads; i += 1) {
    const created = new Date(start + i * 60_000);
    const id = uuid(i);
    const iso = created.toISOString();
    const [day, time] = iso.slice(0, 19).split('T') as [string, string];
    const [y, m, d] = day.split('-') as [string, string, string];
    const dir = join(home, 'sessions', y, m, d);
    mkdirSync(dir, { recursive: true });
    const cwd = `/home/dev/projects/p${i % 20}`;
    const isHidden = hiddenEvery > 0 && i % hiddenEvery === 0;
    if (isHidden) hidden += 1;
    const lines = [
      {
        type: 'session_meta',
        payload: {
          id,
          timestamp: iso,
          cwd,
          originator: 'big-home',
          cli_version: '0.131.0',
          source: isHidden ? 'exec' : 'cli',
          model_provider: isHidden ? 'other' : 'openai',
          base_instructions: null,
        },
      },
      {
        type: 'response_item',
        payload: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `Task ${i}: fix bug #${i * 7}` }],
        },
      },
      {
        type: 'event_msg',
        payload: { type: 'user_message', message: `Task ${i}: fix bug #${i * 7}`, images: [] },
      },
      { type: 'event_msg', payload: { type: 'agent_message', message: `Fixed bug #${i * 7}.` } },
    ];
    const file = join(dir, `rollout-${day}T${time.replaceAll(':', '-')}-${id}.jsonl`);
    writeFileSync(
      file,
      `${lines.map((line) => JSON.stringify({ timestamp: iso, ...line })).join('\n')}\n`,
    );
    utimesSync(file, created, created);
  }
  return { threads, hidden };
}
