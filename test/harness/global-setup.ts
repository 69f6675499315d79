import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

/**
 * One redis-server for the whole run, shared by the test files that only need
 * "a Redis". Set AGENT_SESSION_TEST_REDIS_URL to use an external server
 * instead; tests isolate themselves by key prefix and never flush it.
 * Tests that stop and restart Redis, or need Sentinel/Cluster/TLS, start
 * servers of their own.
 *
 * One PostgreSQL database for the whole run, created on the server at
 * AGENT_SESSION_TEST_PG_URL (default: the machine's, trust auth) and dropped
 * at the end; test files isolate themselves by schema within it and never
 * touch another database.
 */
const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function setup(project: TestProject) {
  const database = await createTestDatabase(process.env.AGENT_SESSION_TEST_PG_URL ?? DEFAULT_PG_URL);
  project.provide('pgUrl', database.url);

  const external = process.env.AGENT_SESSION_TEST_REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return database.drop;
  }
  const server = await startRedisServer().catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  project.provide('redisUrl', server.url);
  return async () => {
    await server.dispose();
    await database.drop();
  };
}

async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `agent_session_test_${randomBytes(6).toString('hex')}`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      return await work(client);
    } finally {
      await client.end().catch(() => {});
    }
  };
  try {
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
    throw new Error(
      `The archive tests need a PostgreSQL server: could not create a database through AGENT_SESSION_TEST_PG_URL ` +
        `(${process.env.AGENT_SESSION_TEST_PG_URL ? 'set' : `unset, so ${DEFAULT_PG_URL}`}): ${reason}. ` +
        'Start PostgreSQL (.ci/run does), or point AGENT_SESSION_TEST_PG_URL at a server where this user may CREATE DATABASE.',
    );
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** A database of this run's own, dropped at its end; test files use a schema each. */
    pgUrl: string;
  }
}
