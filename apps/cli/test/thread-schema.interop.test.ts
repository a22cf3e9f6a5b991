import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli, makeTempDir } from '@skein/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, skeinJson } from './helpers.js';

interface JsonSchema {
  definitions: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
}

/**
 * `skein list --json` must print objects a `thread/list` client can read: checked against the
 * `Thread` definition of the schema the real `codex app-server generate-json-schema` (0.169)
 * prints (every required field present, no field the protocol does not define).
 */
describe('skein list --json against the codex 0.169 Thread schema', () => {
  let thread: { properties: Record<string, unknown>; required: string[] };

  beforeAll(() => {
    const codex = ensureCodexCli('0.169.0');
    const dir = makeTempDir('skein-cli-schema-');
    execFileSync(codex.binary, ['app-server', 'generate-json-schema', '--out', dir], {
      env: { ...process.env, CODEX_HOME: makeTempDir('skein-cli-schema-home-') },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    const schema = JSON.parse(
      readFileSync(join(dir, 'v2', 'ThreadListResponse.json'), 'utf8'),
    ) as JsonSchema;
    const definition = schema.definitions.Thread;
    if (!definition?.properties || !definition.required) throw new Error('no Thread definition');
    thread = { properties: definition.properties, required: definition.required };
  });

  it.each(['codex-0.169', 'codex-0.131'] as const)('on the %s fixture', async (name) => {
    const { home } = fixture(name);
    const listed = await skeinJson<Record<string, unknown>[]>(['list', '--source', 'any'], {
      home,
    });
    expect(listed.length).toBeGreaterThan(0);
    for (const item of listed) {
      for (const key of thread.required) expect(item).toHaveProperty(key);
      for (const key of Object.keys(item)) expect(Object.keys(thread.properties)).toContain(key);
      const source = item.source;
      if (typeof source === 'string') {
        expect(['cli', 'vscode', 'exec', 'appServer', 'unknown']).toContain(source);
      } else {
        expect(Object.keys(source as object)).toHaveLength(1);
        expect(['custom', 'subAgent']).toContain(Object.keys(source as object)[0]);
      }
      expect(typeof item.createdAt).toBe('number');
      expect(Number.isInteger(item.updatedAt)).toBe(true);
    }
  });
});
