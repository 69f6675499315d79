import type { ArchiverStats } from 'agent-session/archive';
import { cpuSeconds } from './cpu.js';
import { serverFile, startServer, type ServerProcess } from './processes.js';

/**
 * The archiver process (bench/servers/archiver.ts), started like a server
 * and driven over its loopback control routes.
 */
export interface ArchiverProcess {
  readonly process: ServerProcess;
  start(): Promise<ArchiverStats>;
  /** Resolves once the archiver is idle (drains in progress finish first). */
  stop(): Promise<ArchiverStats>;
  stats(): Promise<ArchiverStats>;
  /** CPU seconds the process has used so far, from /proc (undefined where there is none). */
  cpuSeconds(): number | undefined;
}

export async function startArchiver(env: Record<string, string>): Promise<ArchiverProcess> {
  const child = await startServer(serverFile('archiver'), env);
  const call = async (method: 'GET' | 'POST', path: string): Promise<ArchiverStats> => {
    const response = await fetch(child.url + path, { method });
    if (!response.ok) throw new Error(`archiver ${method} ${path} answered ${response.status}: ${await response.text()}\n${child.stderr()}`);
    return (await response.json()) as ArchiverStats;
  };
  return {
    process: child,
    start: () => call('POST', '/start'),
    stop: () => call('POST', '/stop'),
    stats: () => call('GET', '/stats'),
    cpuSeconds: () => cpuSeconds(child.pid),
  };
}
