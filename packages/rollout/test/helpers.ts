import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeTempDir, repoRoot } from '@skein/test-support';

/** Writes `lines` (strings or objects) joined by `\n`, with a final newline unless `torn`. */
export function writeRolloutFile(
  path: string,
  lines: Array<string | object>,
  options: { torn?: string } = {},
): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)));
  writeFileSync(path, text.map((line) => `${line}\n`).join('') + (options.torn ?? ''));
}

/**
 * A valid zstd frame made of raw (stored) blocks: enough to test `.jsonl.zst` reading without
 * a zstd encoder (Node 20 has none).
 */
export function zstdStore(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const blockMax = 64 * 1024;
  let offset = 0;
  do {
    const size = Math.min(blockMax, data.length - offset);
    const last = offset + size >= data.length ? 1 : 0;
    const header = (size << 3) | last; // block type 0 = raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]));
    parts.push(data.subarray(offset, offset + size));
    offset += size;
  } while (offset < data.length);
  return Buffer.concat(parts);
}

export const THREAD_A = '11111111-1111-4111-8111-111111111111';
export const THREAD_B = '22222222-2222-4222-8222-222222222222';

export function sessionMetaLine(
  id: string,
  overrides: Record<string, unknown> = {},
  timestamp = '2025-01-03T12:00:00.000Z',
): object {
  return {
    timestamp,
    type: 'session_meta',
    payload: {
      id,
      timestamp,
      cwd: '/home/dev/project',
      originator: 'codex_cli_rs',
      cli_version: '0.1.0',
      source: 'cli',
      model_provider: 'openai',
      base_instructions: null,
      ...overrides,
    },
  };
}

export function userMessageLine(message: string, timestamp = '2025-01-03T12:00:01.000Z'): object {
  return {
    timestamp,
    type: 'event_msg',
    payload: { type: 'user_message', message, images: [], local_images: [], text_elements: [] },
  };
}

export function agentMessageLine(message: string, timestamp = '2025-01-03T12:00:02.000Z'): object {
  return { timestamp, type: 'event_msg', payload: { type: 'agent_message', message } };
}

export function tokenCountLine(total: number, timestamp = '2025-01-03T12:00:03.000Z'): object {
  return {
    timestamp,
    type: 'event_msg',
    payload: {
      type: 'token_count',
      info: {
        total_token_usage: {
          input_tokens: total - 7,
          cached_input_tokens: 0,
          output_tokens: 7,
          reasoning_output_tokens: 0,
          total_tokens: total,
        },
        last_token_usage: {
          input_tokens: total - 7,
          cached_input_tokens: 0,
          output_tokens: 7,
          reasoning_output_tokens: 0,
          total_tokens: total,
        },
        model_context_window: 258400,
      },
      rate_limits: null,
    },
  };
}

export function turnContextLine(overrides: Record<string, unknown> = {}): object {
  return {
    timestamp: '2025-01-03T12:00:00.500Z',
    type: 'turn_context',
    payload: {
      turn_id: 'turn-1',
      cwd: '/home/dev/project',
      approval_policy: 'never',
      sandbox_policy: { type: 'read-only' },
      model: 'gpt-5',
      effort: 'high',
      summary: 'auto',
      ...overrides,
    },
  };
}

export function assistantResponseLine(text: string): object {
  return {
    timestamp: '2025-01-03T12:00:02.500Z',
    type: 'response_item',
    payload: {
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text }],
    },
  };
}

/**
 * Writes a Node script for a child process that imports `names` from the built package
 * (`dist/`, so build first) and then runs `body`; returns its path.
 */
export function rolloutDistScript(
  fileName: string,
  names: readonly string[],
  body: string,
): string {
  const dist = join(repoRoot(), 'packages', 'rollout', 'dist', 'index.js');
  if (!existsSync(dist)) {
    throw new Error('build @skein/rollout first (pnpm --filter @skein/rollout... build)');
  }
  const script = join(makeTempDir(), fileName);
  writeFileSync(script, `import { ${names.join(', ')} } from ${JSON.stringify(dist)};\n${body}`);
  return script;
}
