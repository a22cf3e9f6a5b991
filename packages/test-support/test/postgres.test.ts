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

  it('clones databases from a template it prepares once per server', async () => {
    let prepared = 0;
    const template = {
      name: 'skein_test_template',
      async prepare(url: string) {
        prepared += 1;
        expect(url).toMatch(/\/skein_test_template$/);
        server.psql('CREATE TABLE marks (n int); INSERT INTO marks VALUES (7)', template.name);
      },
    };
    const first = await server.cloneDatabase(template);
    const second = await server.cloneDatabase(template);
    expect(first).not.toBe(second);
    expect(prepared).toBe(1);
    const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
    // Each clone has the template's content and is a database of its own.
    server.psql('INSERT INTO marks VALUES (8)', nameOf(first));
    expect(
      server.psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM marks", nameOf(first)),
    ).toBe('7,8');
    expect(
      server.psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM marks", nameOf(second)),
    ).toBe('7');
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
