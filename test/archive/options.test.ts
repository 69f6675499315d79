import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { ConfigError } from 'agent-session';
import { createPgArchive, type PgArchiveOptions } from 'agent-session/archive';

const SECRET = 'hunter2-Secret';

function configError(options: unknown): ConfigError {
  try {
    createPgArchive(options as PgArchiveOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(SECRET);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('archive options', () => {
  it('needs a connection string or a pool, not both', () => {
    expect(configError(undefined).message).toMatch(/options object/);
    expect(configError({}).message).toMatch(/`connectionString` or `pool`/);
    const pool = new pg.Pool();
    expect(configError({ pool, connectionString: inject('pgUrl') }).message).toMatch(/either `pool`.*or `connectionString`/);
    expect(configError({ pool, max: 5, ssl: true }).message).toMatch(/`ssl` and `max`.*set them on your pg.Pool/);
    expect(configError({ pool: { query: () => {} } }).message).toMatch(/node-postgres pool/);
  });

  it('names an unknown option', () => {
    expect(configError({ connectionString: inject('pgUrl'), timeoutMs: 5 }).message).toMatch(/Unknown createPgArchive\(\) option `timeoutMs`/);
    expect(configError({ connectionString: inject('pgUrl'), querytimeoutms: 5 }).message).toMatch(/Did you mean `queryTimeoutMs`\?/);
  });

  it('checks the connection string without ever repeating it', () => {
    expect(configError({ connectionString: `postgres//archive:${SECRET}@db` }).message).toMatch(/not a valid URL/);
    expect(configError({ connectionString: `mysql://archive:${SECRET}@db/app` }).message).toMatch(/postgres:\/\/.*got "mysql:\/\/"/);
    expect(configError({ connectionString: '' }).message).toMatch(/non-empty string/);
  });

  it('refuses TLS configured in two places (node-postgres would let the URL win silently)', () => {
    const error = configError({ connectionString: `postgres://archive:${SECRET}@db/app?sslmode=verify-full`, ssl: { rejectUnauthorized: false } });
    expect(error.message).toMatch(/`ssl` is set, and so is "sslmode"/);
    expect(configError({ connectionString: inject('pgUrl'), ssl: 'yes' }).message).toMatch(/`ssl` must be true, false, or an object/);
  });

  it('checks the bounds and the pool size', () => {
    const url = inject('pgUrl');
    for (const [name, value] of [
      ['queryTimeoutMs', 0],
      ['queryTimeoutMs', -1],
      ['queryTimeoutMs', 1.5],
      ['writeTimeoutMs', '10s'],
      ['max', 0],
    ] as const) {
      expect(configError({ connectionString: url, [name]: value }).message).toContain(`\`${name}\` must be a whole number`);
    }
  });

  it('accepts a valid configuration and does no I/O until a method is called', async () => {
    // Port 1 has nothing listening: constructing must not notice.
    const archive = createPgArchive({
      connectionString: `postgres://archive:${SECRET}@127.0.0.1:1/app`,
      ssl: { rejectUnauthorized: true },
      schema: 'archive_v1',
      queryTimeoutMs: 500,
      writeTimeoutMs: 5_000,
      max: 4,
    });
    expect(archive.schema).toBe('archive_v1');
    await archive.close();
  });
});
