// Metadata extraction speed: 10,000 rollouts of ~26 KB (260 MB), the backfill workload.
// Target (whole backfill, incl. DB writes): 10k files in <= 1.2 s on 2 cores; reading the bytes
// alone takes ~0.3 s. Prints the fast path, the full-parse path and a raw read for scale.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  extractThreadMetadataByFullRead,
  extractThreadMetadataFromFile,
  extractThreadMetadataFromFileSync,
  listThreadsFromFiles,
} from '../dist/index.js';

const FILES = Number(process.env.SKEIN_BENCH_FILES ?? 10_000);
const root = join(tmpdir(), `skein-extract-bench-${process.pid}`);

function uuid(i) {
  const hex = i.toString(16).padStart(12, '0');
  return `01a20154-0000-7000-8000-${hex}`;
}

function rolloutText(id, i) {
  const ts = '2026-11-22T03:36:58.426Z';
  const lines = [];
  lines.push({
    timestamp: ts,
    type: 'session_meta',
    payload: {
      id,
      timestamp: ts,
      cwd: `/home/dev/projects/p${i % 7}`,
      originator: 'codex_cli_rs',
      cli_version: '0.131.0',
      source: 'cli',
      model_provider: 'openai',
      base_instructions: { text: 'You are a coding agent. '.repeat(300) },
    },
  });
  let turn = 0;
  while (JSON.stringify(lines).length < 25_500) {
    turn += 1;
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: { type: 'task_started', turn_id: `t${turn}` },
    });
    lines.push({
      timestamp: ts,
      type: 'turn_context',
      payload: {
        turn_id: `t${turn}`,
        cwd: '/x',
        approval_policy: 'never',
        sandbox_policy: { type: 'read-only' },
        model: 'gpt-5',
        effort: 'high',
        summary: 'auto',
      },
    });
    lines.push({
      timestamp: ts,
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: `Request ${turn} for thread ${i}` }],
      },
    });
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: {
        type: 'user_message',
        message: `Request ${turn} for thread ${i}`,
        images: [],
        local_images: [],
        text_elements: [],
      },
    });
    lines.push({
      timestamp: ts,
      type: 'response_item',
      payload: {
        type: 'function_call',
        name: 'shell',
        arguments: JSON.stringify({ command: ['ls', '-la'] }),
        call_id: `c${turn}`,
      },
    });
    lines.push({
      timestamp: ts,
      type: 'response_item',
      payload: {
        type: 'function_call_output',
        call_id: `c${turn}`,
        output: 'drwxr-xr-x file\n'.repeat(120),
      },
    });
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: { type: 'agent_message', message: 'Done. '.repeat(40) },
    });
    lines.push({
      timestamp: ts,
      type: 'response_item',
      payload: {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Done. '.repeat(40) }],
      },
    });
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: {
        type: 'token_count',
        info: {
          total_token_usage: {
            input_tokens: 100 * turn,
            cached_input_tokens: 0,
            output_tokens: 7,
            reasoning_output_tokens: 0,
            total_tokens: 100 * turn + 7,
          },
        },
        rate_limits: null,
      },
    });
    lines.push({
      timestamp: ts,
      type: 'event_msg',
      payload: { type: 'task_complete', turn_id: `t${turn}`, last_agent_message: 'Done.' },
    });
  }
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

mkdirSync(join(root, 'sessions/2026/11/22'), { recursive: true });
const paths = [];
let bytes = 0;
for (let i = 0; i < FILES; i += 1) {
  const id = uuid(i);
  const path = join(root, 'sessions/2026/11/22', `rollout-2026-11-22T03-36-58-${id}.jsonl`);
  const text = rolloutText(id, i);
  bytes += text.length;
  writeFileSync(path, text);
  paths.push(path);
}

async function time(label, fn) {
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  return { label, ms };
}

const opts = { defaultProvider: 'openai' };
const results = [];
results.push(
  await time('raw readFileSync of every file', () => {
    for (const p of paths) readFileSync(p);
  }),
);
results.push(
  await time('fast extraction (sync)', () => {
    for (const p of paths) extractThreadMetadataFromFileSync(p, opts);
  }),
);
results.push(
  await time('fast extraction (async, 16 in flight)', async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < paths.length) await extractThreadMetadataFromFile(paths[next++], opts);
      }),
    );
  }),
);
const fullSample = paths.slice(0, Math.min(2000, paths.length));
const full = await time(`full parse (${fullSample.length} files, scaled)`, async () => {
  for (const p of fullSample) await extractThreadMetadataByFullRead(p, opts);
});
full.ms = (full.ms * paths.length) / fullSample.length;
results.push(full);

const listFirst = await time('filesystem list, first page of 25', () =>
  listThreadsFromFiles(root, { pageSize: 25, allowedSources: [] }),
);
let listed = 0;
const listAll = await time('filesystem list, all pages of 100', async () => {
  let cursor = null;
  for (let i = 0; i < 1000; i += 1) {
    const page = await listThreadsFromFiles(root, { pageSize: 100, cursor, allowedSources: [] });
    listed += page.items.length;
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
});

console.log(
  `metadata extraction: ${FILES} rollouts, ${(bytes / 1e6).toFixed(0)} MB (avg ${(bytes / FILES / 1024).toFixed(1)} KB)`,
);
for (const r of results) {
  console.log(
    `  ${r.label.padEnd(42)} ${r.ms.toFixed(0).padStart(6)} ms  ${(bytes / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s`,
  );
}
console.log(`  ${listFirst.label.padEnd(42)} ${listFirst.ms.toFixed(0).padStart(6)} ms`);
console.log(
  `  ${listAll.label.padEnd(42)} ${listAll.ms.toFixed(0).padStart(6)} ms  (${listed} threads)`,
);
const fast = results[1].ms;
console.log(
  `  fast vs full parse: ${(results[3].ms / fast).toFixed(1)}x faster; fast share of the 1.2 s backfill budget: ${((fast / 1200) * 100).toFixed(0)}%`,
);
if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
