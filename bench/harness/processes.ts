import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Starts bench servers as child processes (TypeScript run through tsx's
 * loader), each listening on a free loopback port it reports over IPC, and
 * stops them again. Each server has its own process so its CPU and memory are
 * its own, and one server's garbage cannot slow another.
 */
export interface ServerProcess {
  readonly file: string;
  readonly pid: number;
  readonly url: string;
  /** The last lines the server wrote to stderr (for error reports). */
  stderr(): string;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function serverFile(name: string): string {
  return fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
}

/** `nodeFlags`: extra Node options for the server, e.g. --cpu-prof. */
export async function startServer(file: string, env: Record<string, string>, nodeFlags: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  const child: ChildProcess = fork(file, [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx', ...nodeFlags],
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4_000);
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not report ready within ${timeoutMs} ms:\n${errors}`));
    }, timeoutMs);
    child.once('message', (message: { ready?: boolean; port?: number }) => {
      clearTimeout(timer);
      if (message?.ready && message.port) resolve(message.port);
      else reject(new Error(`${file} sent an unexpected first message: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${signal ?? code}) before it was ready:\n${errors}`));
    });
  });

  return {
    file,
    pid: child.pid ?? 0,
    url: `http://127.0.0.1:${port}`,
    stderr: () => errors,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
