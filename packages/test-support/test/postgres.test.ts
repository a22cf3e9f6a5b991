import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../src/index.js';

describe('startPostgres', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves SQL on 127.0.0.1 and creates separate databases', async () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const first = await server.createDatabase();
    const second = await server.createDatabase();
    expect(first).not.toBe(second);
    const database = first.slice(first.lastIndexOf('/') + 1);
    const row = server.psql(
      `SELECT datname, current_setting('server_version_num'), inet_server_addr() FROM pg_database WHERE datname = '${database}'`,
    );
    const [name, version, address] = row.split('|');
    expect(name).toBe(database);
    expect(Number(version)).toBeGreaterThanOrEqual(150000);
    expect(address).toBe('127.0.0.1');
  });

  it('stop() shuts the server down and removes its directory', async () => {
    const other = await startPostgres();
    const { rootDir, url } = other;
    expect(existsSync(rootDir)).toBe(true);
    await other.stop();
    await other.stop();
    expect(existsSync(rootDir)).toBe(false);
    expect(() => other.psql('SELECT 1')).toThrow(/psql failed/);
    expect(url).toContain(`:${other.port}/`);
  });
});
