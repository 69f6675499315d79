import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { ConfigError } from 'agent-session';
import { connectRedis, type RedisConnectionOptions } from 'agent-session';
import { resolveConnectionOptions } from '../../src/redis/options.js';

/** Option validation: every mistake is a ConfigError that names the option and says how to fix it, before any I/O. */

function configError(options: unknown): ConfigError {
  try {
    resolveConnectionOptions(options as RedisConnectionOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('connection options', () => {
  it.each([
    [{ url: 'redis://h:1', cluster: { rootNodes: [{ host: 'h', port: 1 }] } }, /`url` and `cluster` cannot be combined/],
    [{ sentinel: { masterName: 'm', nodes: [{ host: 'h', port: 1 }] }, cluster: { rootNodes: [{ host: 'h', port: 1 }] } }, /cannot be combined/],
    [{ sentinel: { nodes: [{ host: 'h', port: 26379 }] } }, /`sentinel.masterName` is required/],
    [{ sentinel: { masterName: 'm', nodes: [] } }, /`sentinel.nodes` must list at least one sentinel/],
    [{ sentinel: { masterName: 'm', nodes: [{ host: 'h' }] } }, /`sentinel.nodes\[0\]` needs both `host` and `port`/],
    [{ cluster: { rootNodes: [] } }, /`cluster.rootNodes` must list at least one/],
    [{ cluster: { rootNodes: [{ host: 'h', port: 1 }] }, database: 2 }, /Redis Cluster has only database 0/],
    [{ cluster: { rootNodes: [{ url: 'redis://u:p@h:1' }] } }, /put `username`\/`password` on the top-level options/],
    [{ cluster: { rootNodes: [{ url: 'redis://h:1' }, { url: 'rediss://h:2' }] } }, /mixes redis:\/\/ and rediss:\/\//],
    [{ failFastMs: 0 }, /`failFastMs` must be a whole number of milliseconds, from 1 to 2147483647 \(default 2000\); got 0/],
    [{ failFastMs: -5 }, /`failFastMs` must be a whole number of milliseconds/],
    [{ failFastMs: '2000' }, /`failFastMs` must be a whole number of milliseconds, .*; got a string/],
    [{ failFastMs: 1500.5 }, /`failFastMs` must be a whole number of milliseconds, .*; got 1500.5/],
    [{ connectTimeoutMs: Number.NaN }, /`connectTimeoutMs` must be a whole number of milliseconds/],
    [{ connectTimeoutMs: 250.5 }, /`connectTimeoutMs` must be a whole number of milliseconds/],
    [{ reconnect: { maxDelayMs: 99.9 } }, /`reconnect.maxDelayMs` must be a whole number of milliseconds/],
    // Longer than a Node timer can wait: it would fire at once and fail every command.
    [{ failFastMs: 2 ** 31 }, /`failFastMs` must be a whole number of milliseconds, from 1 to 2147483647/],
    [{ reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }, /`reconnect.initialDelayMs` \(500\) is larger than `reconnect.maxDelayMs` \(100\)/],
    [{ logIntervalMs: -1 }, /`logIntervalMs` must be a whole number of milliseconds, 0 or more/],
    [{ logIntervalMs: 0.5 }, /`logIntervalMs` must be a whole number of milliseconds, 0 or more/],
    [{ logger: 'console' }, /`logger` must be a function/],
    [{ url: 'http://h:1' }, /must start with redis:\/\/ or rediss:\/\//],
    [{ url: 'not a url' }, /`url` is not a valid URL/],
    [{ url: 'redis://h:1/abc' }, /must be a database number/],
    [{ url: 'redis://h:1', host: 'other' }, /Give either `url` or `host`\/`port`/],
    [{ url: 'redis://h:1/3', database: 4 }, /`database` is 4 but `url` selects database 3/],
    [{ port: 70_000 }, /`port` must be a TCP port number/],
    [{ database: -1 }, /`database` must be a database number/],
    [{ url: 'rediss://h:1', tls: false }, /`tls` is false but `url` uses rediss:\/\//],
    [{ url: 'redis://h:1', tls: true }, /use rediss:\/\/ to connect with TLS/],
    [{ tls: { cert: 'x' } }, /`tls.cert` and `tls.key` go together/],
    [{ tls: { ca: 42 } }, /`tls.ca` must be PEM text/],
    [{ tls: { verify: true } }, /Unknown option `tls.verify`/],
    [{ failfastMs: 100 }, /Unknown Redis connection option `failfastMs`. Did you mean `failFastMs`\?/],
    [{ reconnect: { maxDelay: 100 } }, /Unknown option `reconnect.maxDelay`. Known options: initialDelayMs, maxDelayMs/],
    [{ sentinel: { masterName: 'm', nodes: [{ host: 'h', port: 1 }], pasword: 'x' } }, /Unknown option `sentinel.pasword`/],
    [{ sentinel: { masterName: 'm', nodes: [{ host: 'h', port: 1, tls: true }] } }, /Unknown option `sentinel.nodes\[0\].tls`/],
    [{ cluster: { rootNodes: [{ url: 'redis://h:1', port: 2 }] } }, /Unknown option `cluster.rootNodes\[0\].port`/],
    [{ cluster: { nodes: [{ host: 'h', port: 1 }] } }, /Unknown option `cluster.nodes`/],
    [{ client: {} }, /`client` must be a node-redis client/],
    [{ probe: true }, /`probe` must be false \(no probe\) or an object: \{ intervalMs, timeoutMs \}/],
    [{ probe: { timeoutMs: 0 } }, /`probe.timeoutMs` must be a whole number of milliseconds, from 1/],
    [{ probe: { intervalMs: 0.5 } }, /`probe.intervalMs` must be a whole number of milliseconds/],
    [{ probe: { interval: 100 } }, /Unknown option `probe.interval`. Known options: intervalMs, timeoutMs/],
  ])('rejects %j', (options, message) => {
    expect(configError(options).message).toMatch(message);
  });

  it('rejects an app-supplied client combined with connection options', () => {
    const client = createClient();
    expect(configError({ client, url: 'redis://h:1' }).message).toMatch(/Pass either `client` .* or connection options, not both; remove `url`/);
  });

  it('never repeats a password from a bad URL', () => {
    for (const url of ['http://u:hunter2@h:1', 'redis://u:hunter2@h:1/x', 'redis://u:hunter2@:1']) {
      expect(configError({ url }).message).not.toContain('hunter2');
    }
  });

  it('resolves defaults, URL parts and explicit overrides', () => {
    const plain = resolveConnectionOptions({});
    expect(plain.target).toEqual({ kind: 'standalone', node: { host: '127.0.0.1', port: 6379 } });
    expect(plain.failFastMs).toBe(2_000);
    expect(plain.reconnect).toEqual({ initialDelayMs: 50, maxDelayMs: 2_000 });
    expect(plain.probe).toEqual({ intervalMs: 500, timeoutMs: 500 });
    expect(resolveConnectionOptions({ probe: false }).probe).toBeUndefined();
    expect(resolveConnectionOptions({ probe: { timeoutMs: 200 } }).probe).toEqual({ intervalMs: 500, timeoutMs: 200 });

    const fromUrl = resolveConnectionOptions({ url: 'rediss://alice:s%40cret@db.internal:6380/2' });
    expect(fromUrl).toMatchObject({ username: 'alice', password: 's@cret', database: 2, tls: {} });
    expect(fromUrl.description).toBe('rediss://alice@db.internal:6380/2');
    expect(fromUrl.secrets).toEqual(['s@cret']);

    const overridden = resolveConnectionOptions({ url: 'redis://db:6379', password: 'from-secret-store', username: 'app' });
    expect(overridden).toMatchObject({ username: 'app', password: 'from-secret-store' });

    const sentinel = resolveConnectionOptions({ sentinel: { masterName: 'mymaster', nodes: [{ host: 's1', port: 26379 }], password: 'sp' }, password: 'mp' });
    expect(sentinel.description).toBe('Sentinel master "mymaster" via s1:26379');
    expect(sentinel.secrets).toEqual(['mp', 'sp']);

    const cluster = resolveConnectionOptions({ cluster: { rootNodes: [{ url: 'rediss://n1:7000' }, { host: 'n2', port: 7001 }] } });
    expect(cluster.target).toEqual({ kind: 'cluster', rootNodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }] });
    expect(cluster.tls).toEqual({});
  });

  it('connectRedis validates before connecting', async () => {
    await expect(connectRedis({ failFastMs: 0 })).rejects.toBeInstanceOf(ConfigError);
  });

  it('an app-supplied client that is not connected is a ConfigError with the fix', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' });
    await expect(connectRedis({ client })).rejects.toThrow(/call `await client.connect\(\)` before passing it/);
  });
});
