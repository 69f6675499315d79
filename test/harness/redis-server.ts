import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts real `redis-server` processes for tests: each on a free port, in a
 * temp dir, with no persistence. Tests never touch the machine's own Redis.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the server (SIGTERM) and waits for it to exit. The port stays reserved for restart(). */
  stop(): Promise<void>;
  /** Starts the server again on the same port, with the same arguments. */
  restart(): Promise<void>;
  /** Stops the server and removes its temp dir. */
  dispose(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, the kernel still accepts and buffers, nothing is answered. */
  freeze(): void;
  /** Resumes a frozen process (SIGCONT). */
  thaw(): void;
  /**
   * Kills the process with SIGKILL, as a crash does (no shutdown: no final
   * AOF flush or RDB save), and waits for it to exit. restart() brings it
   * back on the same port and dir, so it reloads what it had persisted.
   */
  kill(): Promise<void>;
  /** The running process's pid (undefined while stopped). */
  readonly pid: number | undefined;
}

export interface StartOptions {
  /** Extra redis-server arguments, e.g. ['--requirepass', 'x']. */
  args?: string[];
  port?: number;
  /** Text that redis-server logs once it serves (differs for sentinel mode). */
  readyLine?: RegExp;
  /** Start as a sentinel (`redis-server <conf> --sentinel`); `config` is written to sentinel.conf. */
  sentinelConfig?: string;
  startTimeoutMs?: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

export async function startRedisServer(options: StartOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'agent-session-redis-'));
  const readyLine = options.readyLine ?? /Ready to accept connections/;
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  let child: ChildProcess | undefined;

  const args = (): string[] => {
    const base = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', ''];
    if (options.sentinelConfig !== undefined) {
      const conf = join(dir, 'sentinel.conf');
      // Sentinel rewrites its config file, so it is written fresh on each start.
      writeFileSync(conf, options.sentinelConfig);
      return [conf, '--sentinel', ...base, ...(options.args ?? [])];
    }
    return [...base, ...(options.args ?? [])];
  };

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn('redis-server', args(), { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let output = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`redis-server on port ${port} did not start within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (readyLine.test(output)) {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          proc.stdout?.resume();
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`could not run redis-server (is it installed and on PATH?): ${error.message}`));
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on port ${port} exited with code ${code}:\n${output}`));
      });
    });

  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
    if (!child || child.exitCode !== null) throw new Error(`redis-server on port ${port} is not running`);
    child.kill(name);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      // A frozen server would not act on SIGTERM until resumed.
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    kill,
    get pid() {
      return child?.pid;
    },
  };
}
