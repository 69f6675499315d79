import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

/**
 * One redis-server for the whole run, shared by the test files that only need
 * "a Redis". Set AGENT_SESSION_TEST_REDIS_URL to use an external server
 * instead; tests isolate themselves by key prefix and never flush it.
 * Tests that stop and restart Redis, or need Sentinel/Cluster/TLS, start
 * servers of their own.
 */
export default async function setup(project: TestProject) {
  const external = process.env.AGENT_SESSION_TEST_REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return;
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return async () => {
    await server.dispose();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
