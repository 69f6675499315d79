import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The servers the bench compares, numbered as in issue 5. Each runs
 * bench/servers/<file>.ts in its own process. The agent-session servers need
 * the middleware (src/express, src/koa); until it exists they are skipped
 * and the report says so.
 */
export type ServerId = '1' | '1b' | '2' | '3' | '3a' | '3q' | '4' | '4b' | '5' | '6';
export type Framework = 'express' | 'koa';
export type Role = 'ceiling' | 'floor' | 'peer' | 'agent';

export interface ServerSpec {
  id: ServerId;
  file: string;
  label: string;
  framework: Framework;
  role: Role;
  /** Source files that must exist for this server to run. */
  requires: string[];
}

export const SERVERS: readonly ServerSpec[] = [
  { id: '1', file: 'express-bare', label: 'Express, no session (ceiling)', framework: 'express', role: 'ceiling', requires: [] },
  { id: '1b', file: 'express-floor', label: 'express-session + connect-redis, small session (floor)', framework: 'express', role: 'floor', requires: [] },
  { id: '2', file: 'express-peer', label: 'express-session + connect-redis, agent state in session (peer)', framework: 'express', role: 'peer', requires: [] },
  { id: '3', file: 'express-agent', label: 'Express + agent-session', framework: 'express', role: 'agent', requires: ['src/express/index.ts'] },
  { id: '4', file: 'koa-bare', label: 'Koa, no session (ceiling)', framework: 'koa', role: 'ceiling', requires: [] },
  { id: '4b', file: 'koa-floor', label: 'koa-session + Redis store, small session (floor)', framework: 'koa', role: 'floor', requires: [] },
  { id: '5', file: 'koa-peer', label: 'koa-session + Redis store, agent state in session (peer)', framework: 'koa', role: 'peer', requires: [] },
  { id: '6', file: 'koa-agent', label: 'Koa + agent-session', framework: 'koa', role: 'agent', requires: ['src/koa/index.ts'] },
];

/**
 * Server 3 with the cold tier on (`archive: { tier: createPgArchive() }`):
 * only the cold-tier stage runs it (it needs a PostgreSQL database the stage
 * creates), so it is not in SERVERS and `--servers` does not offer it.
 */
export const ARCHIVE_SERVER: ServerSpec = {
  id: '3a',
  file: 'express-agent-archive',
  label: 'Express + agent-session, cold tier on',
  framework: 'express',
  role: 'agent',
  requires: ['src/express/index.ts', 'src/archive/index.ts'],
};

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** Why a server cannot run yet, or undefined when it can. */
export function missing(spec: ServerSpec): string | undefined {
  const absent = [...spec.requires, `bench/servers/${spec.file}.ts`].filter((path) => !existsSync(repoRoot + path));
  return absent.length > 0 ? `not available yet (missing ${absent.join(', ')})` : undefined;
}

export function serverById(id: ServerId): ServerSpec {
  const spec = SERVERS.find((candidate) => candidate.id === id);
  if (!spec) throw new Error(`unknown server ${id}`);
  return spec;
}

/** The server of the same framework with the given role (the peer, the floor, the ceiling). */
export function counterpart(spec: ServerSpec, role: Role): ServerSpec | undefined {
  return SERVERS.find((candidate) => candidate.framework === spec.framework && candidate.role === role);
}

/**
 * Server 3 with session events off (`events: false`): only
 * `npm run bench:events` (events-overhead.ts) runs it, beside server 3, to
 * price the publishing inside the scripts. Not in SERVERS either.
 */
export const EVENTS_OFF_SERVER: ServerSpec = {
  id: '3q',
  file: 'express-agent-quiet',
  label: 'Express + agent-session, events off',
  framework: 'express',
  role: 'agent',
  requires: ['src/express/index.ts'],
};
