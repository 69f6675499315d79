/**
 * The least-privilege ACL lines of the README, in one place: the README's
 * "ACL" section must contain exactly `aclLine(role)` for each role, the
 * static check compares each role's commands with what its code sends, and
 * the runtime check runs each part as a user made from its line.
 *
 * A role is a process that connects to Redis with its own user: the app
 * (store + middleware, observer requests and the cold tier's registration
 * included), the observer worker, the archiver.
 */
export type AclRole = 'app' | 'observer' | 'archiver';

export const ACL_LINES: Record<AclRole, readonly string[]> = {
  app: [
    'ping', 'time', 'evalsha', 'eval',
    'get', 'set', 'pexpire', 'del', 'exists', 'type', 'pttl',
    'hget', 'hmget', 'hset', 'hincrby', 'hgetall', 'hdel', 'hexists',
    'rpush', 'ltrim', 'lrange', 'llen', 'lindex',
    'zadd', 'zrange', 'zcard', 'zrem', 'zpopmin',
    'xadd', 'xtrim', 'xlen', 'xrange', 'xpending',
    'publish', 'spublish', 'subscribe', 'unsubscribe', 'ssubscribe', 'sunsubscribe',
  ],
  observer: [
    'ping', 'time', 'evalsha', 'eval',
    'get', 'set', 'pexpire', 'del', 'exists', 'type', 'pttl',
    'hget', 'hmget', 'hset', 'hgetall', 'hdel',
    'rpush', 'lrange', 'llen', 'lindex',
    'xadd', 'xtrim', 'xlen', 'xrange', 'xack', 'xdel', 'xreadgroup', 'xautoclaim', 'xclaim', 'xpending', 'xgroup|create', 'xgroup|delconsumer',
    'publish', 'spublish',
  ],
  archiver: [
    'ping', 'time', 'evalsha', 'eval',
    'get', 'set', 'del', 'type',
    'hmget', 'hgetall', 'ltrim', 'lrange', 'llen',
    'zrange', 'zrem', 'zscore', 'zcard',
  ],
};

/** The code of each role, for the static check (paths under the repository root). */
export const ROLE_SOURCES: Record<AclRole, readonly string[]> = {
  // src/metrics runs in any of the three (agentMetrics()).
  app: ['src/redis', 'src/core', 'src/request', 'src/express', 'src/koa', 'src/tool-cache', 'src/metrics'],
  // The worker runs the store's read and its two observer writes, its own scripts, and the backlog read (worker.backlog()).
  observer: [
    'src/redis',
    'src/observer',
    'src/core/lua/read-4.lua',
    'src/core/lua/writeNotes-6.lua',
    'src/core/lua/writeObserverError-5.lua',
    'src/core/lua/observerBacklog-1.lua',
    'src/metrics',
  ],
  archiver: ['src/redis', 'src/archive', 'src/metrics'],
};

/**
 * Commands the code sends but does without when they are denied: the
 * start-up eviction-policy check (CONFIG GET) is skipped quietly, and the
 * metrics' Redis server figures (INFO) are left out after one warning. They
 * are not in the lines; the README says what adding them gives.
 */
export const TOLERATED_COMMANDS: readonly string[] = ['config|get', 'info'];

export const ACL_USERS: Record<AclRole, string> = { app: 'agent-app', observer: 'agent-observer', archiver: 'agent-archiver' };

export interface AclUserOptions {
  user?: string;
  password?: string;
  /** The keyPrefix of the app, worker and archiver; default 'agent:'. */
  keyPrefix?: string;
}

/** The arguments of `ACL SETUSER` for a role's line (or any list of commands). */
export function aclSetUserArguments(commands: readonly string[], options: AclUserOptions & { user: string }): string[] {
  const { user, password = 'change-this-password', keyPrefix = 'agent:' } = options;
  // `reset` first: no other password, key pattern, channel or command survives from an earlier definition.
  // A role that publishes session events (or subscribes to them) needs their channels, '<prefix>{<id>}:events', too.
  const channels = commands.some((command) => /^s?(publish|subscribe)$/.test(command)) ? [`&${keyPrefix}*`] : [];
  return [user, 'reset', 'on', `>${password}`, `~${keyPrefix}*`, ...channels, ...commands.map((command) => `+${command}`)];
}

/** The line the README shows for a role, as an operator pastes it into redis-cli. */
export function aclLine(role: AclRole): string {
  return ['ACL SETUSER', ...aclSetUserArguments(ACL_LINES[role], { user: ACL_USERS[role] })].join(' ');
}
