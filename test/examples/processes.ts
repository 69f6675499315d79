import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * The examples as users run them: tsx, a real child process, the package
 * imported by its public name through tsconfig paths.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export interface Example {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Runs an example; without the cold tier or a real model unless `env` sets DATABASE_URL or OPENAI_API_KEY (whatever the environment of the test run says).
 * A worker's metrics endpoint goes on a free port (METRICS_PORT 0) unless `env` names one, so parallel test files never compete for the default.
 */
export function runExample(file: string, env: Record<string, string>): Example {
  const child = spawn(tsx, [file], { cwd: root, env: { ...process.env, DATABASE_URL: '', OPENAI_API_KEY: '', METRICS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

/**
 * Stops an example the way Ctrl-C would: tsx relays SIGTERM to the server
 * process (a SIGKILL would stop only tsx and could orphan the server).
 */
export async function stop(example: Example): Promise<void> {
  if (example.child.exitCode !== null || example.child.signalCode !== null) return;
  example.child.kill('SIGTERM');
  await example.exited;
}

/** Waits for `text` in the example's output (or fails with its output if it exits first). */
export async function printed(example: Example, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (example.output().includes(text)) {
        example.child.stdout!.off('data', check);
        resolve();
      }
    };
    example.child.stdout!.on('data', check);
    example.exited.then((code) => reject(new Error(`the example exited (${code}) before printing "${text}":\n${example.output()}`)));
    check();
  });
}

/** Waits for the line the example prints once it listens. */
export function listening(example: Example, url: string): Promise<void> {
  return printed(example, `listening on ${url}`);
}
