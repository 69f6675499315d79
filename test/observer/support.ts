import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, inject } from 'vitest';
import {
  createObserverWorker,
  type AnalyzeInput,
  type ObserverEvent,
  type ObserverWorker,
  type ObserverWorkerOptions,
} from 'agent-session/observer';
import type { SessionStore } from '../../src/core/agent-store.js';
import { observerQueueKey } from '../../src/core/keys.js';
import { clientForThisFile, redisOf, type TestClient } from '../harness/store.js';

/**
 * The hooks of an observer test file: a raw client on the run's Redis for
 * the whole file, and every in-process worker stopped after each test.
 */
export function useRedis(): { readonly client: TestClient } {
  const client = clientForThisFile();
  afterEach(stopWorkers);
  return { client };
}

/** A promise the test settles by hand: analyses block on it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Keeps a worker's events and lets a test await them (instead of sleeping). */
export function recordObserverEvents() {
  const events: ObserverEvent[] = [];
  const waiters = new Set<() => void>();
  return {
    events,
    logger(event: ObserverEvent) {
      events.push(event);
      for (const check of waiters) check();
    },
    /** Resolves once `count` events (seen so far or still to come) match. */
    until(what: string, match: (event: ObserverEvent) => boolean, count = 1, timeoutMs = 15_000): Promise<ObserverEvent[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = events.filter(match);
          if (matching.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(matching);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} x ${what}; events: ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

type RunFinished = Extract<ObserverEvent, { type: 'run-finished' }>;

export const finished =
  (outcome?: RunFinished['outcome']) =>
  (event: ObserverEvent): event is RunFinished =>
    event.type === 'run-finished' && (outcome === undefined || event.outcome === outcome);

/** Worker settings that keep tests quick: short polls and retries, leases long enough never to expire by accident. */
export const FAST: Partial<ObserverWorkerOptions> = {
  pollIntervalMs: 20,
  leaseMs: 20_000,
  claimIdleMs: 40_000,
  retryBackoff: () => 5,
  stopGraceMs: 2_000,
  concurrency: 4,
};

const running = new Set<Pick<ObserverWorker, 'stop'>>();

/**
 * Starts an in-process worker on the store's Redis and prefix, recording its
 * events; `stopWorkers()` (after each test, see useRedis) stops every one.
 */
export async function startWorker<T>(store: SessionStore, options: Partial<ObserverWorkerOptions<T>> & Pick<ObserverWorkerOptions<T>, 'analyze'>) {
  const events = recordObserverEvents();
  const worker = createObserverWorker<T>({
    redis: redisOf(store),
    keyPrefix: store.keyPrefix,
    logger: events.logger,
    ...(FAST as Partial<ObserverWorkerOptions<T>>),
    ...options,
  });
  running.add(worker);
  await worker.start();
  return { worker, events };
}

/**
 * A worker whose analyses block until the test calls `release()`; they
 * return `notes(input)` then. `analyzing` resolves once the first analysis
 * has started (its copy of the session is read by then).
 */
export async function startGatedWorker<T>(
  store: SessionStore,
  notes: (input: AnalyzeInput<T>) => T,
  options: Partial<ObserverWorkerOptions<T>> = {},
) {
  const gate = deferred();
  const analyzing = deferred();
  let calls = 0;
  const { worker, events } = await startWorker<T>(store, {
    ...options,
    analyze: async (input) => {
      calls += 1;
      analyzing.resolve();
      await gate.promise;
      return notes(input);
    },
  });
  return {
    worker,
    events,
    analyzing: analyzing.promise,
    release: () => gate.resolve(),
    /** How many analyses have started. */
    get calls() {
      return calls;
    },
  };
}

export async function stopWorkers(): Promise<void> {
  await Promise.all([...running].map((worker) => worker.stop()));
  running.clear();
}

/** Jobs in a kind's queue (the stream only holds jobs not yet acknowledged) and how many are delivered but pending. */
export async function queueState(client: TestClient, prefix: string, kind = 'default'): Promise<{ length: number; pending: number }> {
  const key = observerQueueKey(prefix, kind);
  const length = await client.xLen(key);
  const summary = (await client.sendCommand(['XPENDING', key, kind]).catch(() => [0])) as unknown[];
  return { length, pending: Number(summary[0] ?? 0) };
}

export interface WorkerProcess {
  readonly pid: number;
  /** Resolves when the process has exited (by any signal). */
  readonly exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (graceful stop) and wait for the exit. */
  stop(): Promise<void>;
}

const FIXTURE = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

/**
 * Starts test/observer/fixtures/worker-process.ts as a real process (node
 * with the tsx loader, so the pid is the worker itself, not a wrapper) and
 * resolves once its worker has started.
 */
export async function spawnWorkerProcess(env: {
  prefix: string;
  mode: 'gate' | 'load';
  concurrency?: number;
  leaseMs: number;
  claimIdleMs: number;
}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: {
      ...process.env,
      REDIS_URL: inject('redisUrl'),
      KEY_PREFIX: env.prefix,
      MODE: env.mode,
      CONCURRENCY: String(env.concurrency ?? 1),
      LEASE_MS: String(env.leaseMs),
      CLAIM_IDLE_MS: String(env.claimIdleMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`worker process exited before it was ready:\n${output}`)));
  });
  return {
    pid: child.pid!,
    exited,
    kill: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
