import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createClient, type RedisClientType } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, createAgentStore, RedisStartupError, StoreUnavailableError, type RedisConnection } from 'agent-session';
import { generateId } from '../../src/core/ids.js';
import { isUnavailability } from '../../src/redis/fail-fast.js';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { eventually, recordEvents, rejectionOf } from '../harness/wait.js';

/** Outages after start-up: fail fast while down, reconnect forever, same client afterwards. Start-up without Redis. */

const FAIL_FAST_MS = 500;
/** Generous slack for a loaded CI machine; the bound itself is FAIL_FAST_MS. */
const MARGIN_MS = 1_500;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function serverAndConnection(): Promise<{ server: RedisServer; connection: RedisConnection; client: RedisClientType; log: ReturnType<typeof recordEvents> }> {
  const server = await startRedisServer();
  cleanups.push(() => server.dispose());
  const log = recordEvents();
  const connection = await connectRedis({ url: server.url, failFastMs: FAIL_FAST_MS, reconnect: { maxDelayMs: 200 }, logger: log.logger, logIntervalMs: 0 });
  cleanups.push(() => connection.close());
  return { server, connection, client: connection.client as RedisClientType, log };
}

describe('reconnect and fail-fast', () => {
  it('rejects commands fast while Redis is down and reuses the same client once it is back', async () => {
    const { server, connection, client, log } = await serverAndConnection();
    await client.set('reconnect:key', 'before');

    await server.stop();
    await eventually('the client notices the outage', () => !client.isReady);

    // A raw call (as connect-redis makes) is rejected by node-redis itself, not queued.
    const raw = await rejectionOf(client.get('reconnect:key'));
    expect(isUnavailability(raw.error)).toBe(true);
    expect(raw.elapsedMs).toBeLessThan(FAIL_FAST_MS + MARGIN_MS);

    // A library call on the same connection becomes a StoreUnavailableError.
    const wrapped = await rejectionOf(createAgentStore({ redis: connection }).session(generateId(), { user: null }).meta());
    expect(wrapped.error).toBeInstanceOf(StoreUnavailableError);
    expect(wrapped.elapsedMs).toBeLessThan(FAIL_FAST_MS + MARGIN_MS);

    // MULTI is not covered by disableOfflineQueue: it waits for the next failed attempt (at most maxDelayMs away).
    const multi = await rejectionOf(client.multi().get('reconnect:key').exec());
    expect(isUnavailability(multi.error)).toBe(true);

    expect(await connection.health()).toEqual({ state: 'reconnecting' });
    await eventually('a few reconnect attempts', () => log.events.filter((event) => event.type === 'reconnecting').length >= 3);

    await server.restart();
    await eventually('health is ready again', async () => (await connection.health()).state === 'ready');
    expect(connection.client).toBe(client);
    await client.set('reconnect:key', 'after');
    expect(await client.get('reconnect:key')).toBe('after');

    const reconnecting = log.events.filter((event) => event.type === 'reconnecting');
    expect(reconnecting[0]).toEqual({ type: 'reconnecting', attempt: 1, delayMs: 0 });
    expect(reconnecting.every((event) => event.type === 'reconnecting' && event.delayMs <= 200)).toBe(true);
    expect(log.events.some((event) => event.type === 'error' && /ECONNREFUSED|Socket closed/.test(event.message))).toBe(true);
    expect(log.events.at(-1)).toEqual({ type: 'ready' });
  });

  it('fails a command fast when the server hangs with the connection open, and recovers', async () => {
    const { server, connection, client } = await serverAndConnection();
    const info = await client.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)![1]);
    process.kill(pid, 'SIGSTOP');
    let stopped = true;
    const resume = () => {
      if (stopped) process.kill(pid, 'SIGCONT');
      stopped = false;
    };
    cleanups.push(async () => resume());
    try {
      // The command is written to a live socket; only the socket timeout (= failFastMs) can end the wait.
      const raw = await rejectionOf(client.get('reconnect:hung'));
      expect(isUnavailability(raw.error)).toBe(true);
      expect(raw.elapsedMs).toBeLessThan(FAIL_FAST_MS + MARGIN_MS);

      const started = performance.now();
      expect((await connection.health()).state).toBe('reconnecting');
      expect(performance.now() - started).toBeLessThan(FAIL_FAST_MS + MARGIN_MS);
    } finally {
      resume();
    }
    await eventually('health is ready again', async () => (await connection.health()).state === 'ready');
    expect(await client.ping()).toBe('PONG');
    void server;
  });

  it('keeps reconnecting after socket timeouts (where node-redis would give up by default)', async () => {
    const { server, client, log } = await serverAndConnection();
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
    process.kill(pid, 'SIGSTOP');
    try {
      await eventually('two socket timeouts in a row', () => log.events.filter((event) => event.type === 'error' && /Socket timeout/i.test(event.message)).length >= 2);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually('the client is ready again', () => client.isReady);
    expect(client.isOpen).toBe(true);
    void server;
  });

  it('rejects start-up at once, in one line, when nothing listens: says where and how to fix, and leaves nothing running', async () => {
    const port = await freePort();
    // The child waits up to 120 s for Redis unless refusal ends start-up at once; this test's own timeout is far shorter.
    const { exitCode, output } = await runStartupChild(port, 'refused');
    expect(exitCode, output).toBe(0);
    // One line: the error itself; the default logger printed nothing beside it.
    const lines = output.trim().split('\n');
    expect(lines, output).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as { name: string; message: string; code: string };
    expect(result.name).toBe('RedisStartupError');
    expect(result.code).toBe('STORE_UNAVAILABLE');
    expect(result.message).toContain(`Could not connect to redis://user@127.0.0.1:${port}: connection refused (connect ECONNREFUSED 127.0.0.1:${port}), nothing listens there.`);
    expect(result.message).toMatch(/Start redis-server there, or point agent-session at your Redis with the `url` option/);
    expect(result.message).not.toContain('topsecret');
  });

  it('rejects start-up after connectTimeoutMs when the server never answers, and leaves nothing running', async () => {
    // Accepts each connection and closes it unanswered: an error start-up retries, unlike a refusal.
    const sockets = new Set<Socket>();
    const dropper = createServer((socket) => {
      sockets.add(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => dropper.close(resolve)));
    const port = (dropper.address() as AddressInfo).port;
    const { exitCode, output } = await runStartupChild(port, 'timeout');
    expect(exitCode, output).toBe(0);
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as { name: string; message: string; code: string };
    expect(result.name).toBe('RedisStartupError');
    expect(result.code).toBe('STORE_UNAVAILABLE');
    expect(result.message).toContain(`Could not connect to redis://user@127.0.0.1:${port} within 800 ms`);
    expect(result.message).not.toContain('topsecret');
  });

  it('rejects start-up in-process with a StoreUnavailableError, retries nothing and closes the client', async () => {
    const port = await freePort();
    const log = recordEvents();
    // A start-up timeout the test never waits out: refusal has to end start-up by itself.
    const attempt = await rejectionOf(connectRedis({ port, connectTimeoutMs: 120_000, reconnect: { initialDelayMs: 1, maxDelayMs: 10 }, logger: log.logger, logIntervalMs: 0 }));
    expect(attempt.error).toBeInstanceOf(RedisStartupError);
    expect(attempt.error).toBeInstanceOf(StoreUnavailableError);
    expect((attempt.error as Error).message).toContain('connection refused');
    // The error is the one report: no retry was scheduled, and no separate error line logged.
    expect(log.events).toEqual([]);
    // Nothing retries afterwards: a server that appears now is never contacted.
    const late = await startRedisServer({ port });
    cleanups.push(() => late.dispose());
    const probe = await createClient({ url: late.url }).connect();
    const clients = String(await probe.sendCommand(['CLIENT', 'LIST'])).trim().split('\n');
    probe.destroy();
    expect(clients).toHaveLength(1);
    expect(log.events).toEqual([]);
  });
});

/** Runs fixtures/startup-without-redis.ts against `port`; fails if the child does not exit by itself. */
async function runStartupChild(port: number, mode: 'refused' | 'timeout'): Promise<{ exitCode: number | null; output: string }> {
  const script = fileURLToPath(new URL('./fixtures/startup-without-redis.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    // If a reconnect loop or a timer survived, the child would never exit on its own.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit by itself after connectRedis rejected:\n${output}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { exitCode, output };
}
