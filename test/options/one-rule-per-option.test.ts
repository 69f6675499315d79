import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { ConfigError, connectRedis, createAgentStore, RedisStartupError } from 'agent-session';
import { agentSession as expressAgentSession } from 'agent-session/express';
import { agentSession as koaAgentSession } from 'agent-session/koa';
import { createObserverWorker } from 'agent-session/observer';
import { createToolCache } from 'agent-session/tool-cache';
import { unreachedTier } from '../middleware/unreached-tier.js';

/**
 * One rule per option: an option that several entry points take is accepted
 * or refused alike by all of them, with the same explanation. Pure: every
 * check runs before any I/O, so no Redis is needed (connectRedis is pointed
 * at a closed port and refuses bad options before trying it).
 */

const SECRET = 'a-test-secret-of-at-least-32-characters';
const CLOSED_PORT = 1;

/** Enough of a node-redis client for every entry point to be built; never called. */
const client = {
  evalSha: async () => null,
  eval: async () => null,
  get: async () => null,
  set: async () => 'OK',
  pExpire: async () => 1,
  pTTL: async () => -2,
  del: async () => 1,
};

type Options = Record<string, unknown>;

interface EntryPoint {
  name: string;
  /** A valid call of the entry point, with `options` merged over the required ones; resolves to what it threw, if anything. */
  call(options: Options): Promise<unknown>;
}

async function outcome(build: () => unknown): Promise<unknown> {
  try {
    build();
    return undefined;
  } catch (error) {
    return error;
  }
}

const connect: EntryPoint = {
  name: 'connectRedis',
  call: (options) =>
    connectRedis({ port: CLOSED_PORT, connectTimeoutMs: 100, logger: () => {}, ...options }).then(
      async (connection) => {
        await connection.close();
        return undefined;
      },
      (error: unknown) => error,
    ),
};
const store: EntryPoint = {
  name: 'createAgentStore',
  call: (options) => outcome(() => createAgentStore({ redis: { client, failFastMs: 1_000 }, ...options } as never)),
};
const express: EntryPoint = {
  name: 'agentSession (Express)',
  call: (options) => outcome(() => expressAgentSession({ redis: { client, failFastMs: 1_000 }, secret: SECRET, ...options } as never)),
};
const koa: EntryPoint = {
  name: 'agentSession (Koa)',
  call: (options) =>
    outcome(() => {
      const app = new Koa();
      app.keys = [SECRET];
      koaAgentSession(app, { redis: { client, failFastMs: 1_000 }, ...options } as never);
    }),
};
const observer: EntryPoint = {
  name: 'createObserverWorker',
  call: (options) => outcome(() => createObserverWorker({ redis: { client, failFastMs: 1_000 }, analyze: () => ({}), ...options } as never)),
};
const toolCache: EntryPoint = {
  name: 'createToolCache',
  call: (options) => outcome(() => createToolCache({ redis: { client, failFastMs: 1_000 }, ...options } as never)),
};

/** `options` with `value` at a dotted `path` ("limits.notesBytes"), copying the objects on the way. */
function withOption(path: string, value: unknown, options: Options = {}): Options {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...options, [head]: value };
  return { ...options, [head]: withOption(rest.join('.'), value, (options[head] as Options | undefined) ?? {}) };
}

/** A cold tier for the `archive` option; building an entry point never calls it. */
const tier = unreachedTier();

/** A `redis.*` or `archive.*` option goes into a connection or an archive option that is otherwise valid. */
function optionsFor(path: string, value: unknown): Options {
  if (path.startsWith('redis.')) return withOption(path, value, { redis: { client, failFastMs: 1_000 } });
  if (path.startsWith('archive.')) return withOption(path, value, { archive: { tier } });
  return withOption(path, value);
}

async function configError(entry: EntryPoint, path: string, value: unknown): Promise<ConfigError> {
  const error = await entry.call(optionsFor(path, value));
  if (!(error instanceof ConfigError)) {
    throw new Error(`${entry.name} accepted \`${path}\`: ${String(value)} (${error === undefined ? 'no error' : String(error)})`);
  }
  return error;
}

/** An option as one entry point takes it: `path` is its name there. */
interface At {
  entry: EntryPoint;
  path: string;
}

const at = (entry: EntryPoint, ...paths: string[]): At[] => paths.map((path) => ({ entry, path }));
const everyStoreUser = [store, express, koa, observer];
/** What takes a connection and a key prefix, and nothing else of the store's. */
const everyRedisUser = [...everyStoreUser, toolCache];
const theStoreAndMiddleware = [store, express, koa];

interface SharedRule {
  rule: string;
  where: At[];
  bad: unknown[];
  good: unknown[];
}

const SHARED: SharedRule[] = [
  {
    rule: 'failFastMs: whole ms, 1 to 2147483647',
    where: [...at(connect, 'failFastMs'), ...everyRedisUser.flatMap((entry) => at(entry, 'redis.failFastMs'))],
    bad: [1500.5, 0, -1, '2s', Number.NaN, 2 ** 31],
    good: [1, 1_500],
  },
  {
    rule: 'keyPrefix: at most 64 characters, no braces or spaces',
    where: everyRedisUser.flatMap((entry) => at(entry, 'keyPrefix')),
    bad: ['app{1}:', 'my app:', 'x'.repeat(65), 42, null],
    good: ['', 'app:', 'x'.repeat(64)],
  },
  {
    // The cookie-session key must hash on the id's own {tag} (the agent session's slot): a brace in the prefix would take its place.
    rule: 'sessionKeyPrefix: 1 to 64 characters, no braces or spaces (the middleware of both frameworks)',
    where: [express, koa].flatMap((entry) => at(entry, 'sessionKeyPrefix')),
    bad: ['{sess}:', 'my sess:', 'x'.repeat(65), 42],
    good: ['sess:', 'koa:sess:', 'x'.repeat(64)],
  },
  {
    rule: 'idleTimeoutMs: whole ms, 1 or more',
    where: theStoreAndMiddleware.flatMap((entry) => at(entry, 'idleTimeoutMs')),
    bad: [1.5, 0, '1h'],
    good: [1, 86_400_000],
  },
  {
    rule: 'maxTurns: whole number, 1 to 100000',
    where: theStoreAndMiddleware.flatMap((entry) => at(entry, 'maxTurns')),
    bad: [0, 2.5, 100_001],
    good: [1, 100_000],
  },
  ...(['turnContentBytes', 'metaValueBytes', 'toolPayloadBytes'] as const).map(
    (limit): SharedRule => ({
      rule: `limits.${limit}: whole bytes, 1 or more`,
      where: theStoreAndMiddleware.flatMap((entry) => at(entry, `limits.${limit}`)),
      bad: [-1, 0, 1.5, '1k'],
      good: [1, 1_000_000],
    }),
  ),
  {
    rule: 'notesBytes: whole bytes, 1 or more (the store limit and the worker option)',
    where: [...theStoreAndMiddleware.flatMap((entry) => at(entry, 'limits.notesBytes')), ...at(observer, 'notesBytes')],
    bad: [-1, 0, 1.5, '1k'],
    good: [1, 1_000_000],
  },
  {
    rule: 'observerQueue.maxLength: whole number, 1 to 100000000 (the store, the middleware and the worker)',
    where: everyStoreUser.flatMap((entry) => at(entry, 'observerQueue.maxLength')),
    bad: [0, 2.5, 100_000_001, '100k', null],
    good: [1, 100_000_000],
  },
  {
    rule: 'observerQueue.maxAgeMs: whole ms, 1 or more (the store, the middleware and the worker)',
    where: everyStoreUser.flatMap((entry) => at(entry, 'observerQueue.maxAgeMs')),
    bad: [0, 1.5, '1h', null],
    good: [1, 86_400_000],
  },
  {
    rule: 'maxUserIdBytes: whole bytes, 1 to 65536 (Express and Koa)',
    where: [express, koa].flatMap((entry) => at(entry, 'maxUserIdBytes')),
    bad: [0, 1.5, 65_537, '1k', null],
    good: [1, 65_536],
  },
  {
    rule: 'maxSessionBytes: whole bytes, 1 to 67108864 (Express and Koa)',
    where: [express, koa].flatMap((entry) => at(entry, 'maxSessionBytes')),
    bad: [0, 1.5, 67_108_865, '64k', null],
    good: [1, 67_108_864],
  },
  {
    rule: 'events: true or false (the store and the middleware)',
    where: theStoreAndMiddleware.flatMap((entry) => at(entry, 'events')),
    bad: ['yes', 1, null],
    good: [true, false],
  },
  {
    rule: 'archive.maxBacklog: whole number, 1 or more',
    where: theStoreAndMiddleware.flatMap((entry) => at(entry, 'archive.maxBacklog')),
    bad: [0, 2.5, '10k', null],
    good: [1, 1_000_000],
  },
  ...(['backlogTtlMs', 'registerEveryMs'] as const).map(
    (option): SharedRule => ({
      rule: `archive.${option}: whole ms, 1 or more`,
      where: theStoreAndMiddleware.flatMap((entry) => at(entry, `archive.${option}`)),
      bad: [0, 1.5, '7d'],
      good: [1, 604_800_000],
    }),
  ),
];

describe('one rule per option, across entry points', () => {
  describe.each(SHARED)('$rule', ({ where, bad, good }) => {
    it.each(bad.map((value) => [value]))('refuses %j everywhere, with the same explanation', async (value) => {
      const explanations = new Set<string>();
      for (const { entry, path } of where) {
        const { message } = await configError(entry, path, value);
        expect(message, entry.name).toContain(`\`${path}\` must be `);
        // A string in the wrong place may be a secret: never repeated.
        if (typeof value === 'string') expect(message, entry.name).not.toContain(value);
        explanations.add(message.replace(`\`${path}\``, '`<option>`'));
      }
      expect([...explanations]).toHaveLength(1);
    });

    it.each(good.map((value) => [value]))('accepts %j everywhere', async (value) => {
      for (const { entry, path } of where) {
        const error = await entry.call(optionsFor(path, value));
        // connectRedis goes on to connect, and fails for the closed port instead.
        if (entry === connect) expect(error, entry.name).toBeInstanceOf(RedisStartupError);
        else expect(error, entry.name).toBeUndefined();
      }
    });
  });

  it('connectRedis refuses failFastMs 1500.5, as the store does, before connecting', async () => {
    const atConnect = await configError(connect, 'failFastMs', 1500.5);
    const atStore = await configError(store, 'redis.failFastMs', 1500.5);
    expect(atConnect.message).toBe(
      '`failFastMs` must be a whole number of milliseconds, from 1 to 2147483647 (default 2000); got 1500.5.',
    );
    expect(atStore.message).toBe(atConnect.message.replace('`failFastMs`', '`redis.failFastMs`'));
  });
});

describe('durations are whole milliseconds at every entry point', () => {
  it.each([
    ...at(connect, 'connectTimeoutMs', 'reconnect.initialDelayMs', 'reconnect.maxDelayMs', 'logIntervalMs'),
    ...at(store, 'idleTimeoutMs'),
    ...at(express, 'idleTimeoutMs'),
    ...at(koa, 'idleTimeoutMs'),
    ...at(observer, 'leaseMs', 'claimIdleMs', 'pollIntervalMs', 'stopGraceMs'),
  ])('$entry.name refuses a fraction of a millisecond in $path', async ({ entry, path }) => {
    const { message } = await configError(entry, path, 250.5);
    expect(message).toMatch(new RegExp(`^\`${path.replace('.', '\\.')}\` must be a whole number of milliseconds, .*; got 250\\.5\\.$`));
  });

  it('logIntervalMs alone may be 0 (log every event)', async () => {
    expect(await connect.call({ logIntervalMs: 0 })).toBeInstanceOf(RedisStartupError);
    expect((await configError(connect, 'connectTimeoutMs', 0)).message).toContain('`connectTimeoutMs` must be a whole number of milliseconds, from 1');
  });
});

describe('unknown options are refused at every entry point', () => {
  it.each<At & { message: string }>([
    { entry: connect, path: 'failfastMs', message: 'Unknown Redis connection option `failfastMs`. Did you mean `failFastMs`?' },
    { entry: store, path: 'keyprefix', message: 'Unknown createAgentStore() option `keyprefix`. Did you mean `keyPrefix`?' },
    { entry: express, path: 'maxturns', message: 'Unknown agentSession() option `maxturns`. Did you mean `maxTurns`?' },
    { entry: koa, path: 'idleTimeoutMS', message: 'Unknown agentSession(app, options) option `idleTimeoutMS`. Did you mean `idleTimeoutMs`?' },
    { entry: observer, path: 'leaseMS', message: 'Unknown createObserverWorker() option `leaseMS`. Did you mean `leaseMs`?' },
    {
      entry: store,
      path: 'limits.noteBytes',
      message: 'Unknown option `limits.noteBytes`. Known options: turnContentBytes, metaValueBytes, toolPayloadBytes, notesBytes.',
    },
    {
      entry: express,
      path: 'cookie.maxAge',
      message: 'Unknown cookie option `cookie.maxAge`. Known options: name, secure, sameSite, httpOnly, domain, path.',
    },
    { entry: connect, path: 'reconnect.retries', message: 'Unknown option `reconnect.retries`. Known options: initialDelayMs, maxDelayMs.' },
    ...everyStoreUser.map((entry) => ({
      entry,
      path: 'observerQueue.maxlength',
      message: 'Unknown option `observerQueue.maxlength`. Did you mean `observerQueue.maxLength`?',
    })),
    ...[store, express, koa].map((entry) => ({
      entry,
      path: 'archive.maxbacklog',
      message: 'Unknown option `archive.maxbacklog`. Did you mean `archive.maxBacklog`?',
    })),
  ])('$entry.name refuses $path', async ({ entry, path, message }) => {
    expect((await configError(entry, path, 1)).message).toContain(message);
  });
});

describe('callbacks are functions at every entry point', () => {
  it.each([
    ...at(connect, 'logger'),
    ...at(express, 'logger', 'getUserId', 'onError'),
    ...at(koa, 'logger', 'getUserId', 'onError'),
    ...at(observer, 'logger', 'retryBackoff', 'analyze'),
  ])('$entry.name refuses a $path that is not a function', async ({ entry, path }) => {
    expect((await configError(entry, path, 'console')).message).toMatch(new RegExp(`^\`${path}\` must be a function`));
  });
});

describe('the archive option at every entry point that takes it', () => {
  it.each(theStoreAndMiddleware)('$name refuses an archive without a tier, or with something else than an archive as its tier', async (entry) => {
    for (const archive of [{}, { tier: {} }, { tier: 'postgres://localhost/db' }]) {
      const error = await entry.call({ archive });
      expect(error, JSON.stringify(archive)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe('`archive.tier` must be the archive from createPgArchive() (agent-session/archive).');
    }
  });
});
