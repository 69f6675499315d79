import * as coreScripts from '../../src/core/scripts.js';
import { watchCommands, type CommandCounter } from '../../test/harness/command-counter.js';
import { callsBetween, type BenchRedis } from './redis.js';

/**
 * Which commands one request sends to Redis, and how many more run inside
 * Lua scripts. A few requests are sent one at a time while MONITOR watches
 * (the test suite's command counter, which leaves script-internal commands
 * out), and INFO commandstats is read around them: commandstats counts
 * script-internal commands too, so the difference is the in-script work.
 * The measured runs then only read commandstats (MONITOR would slow Redis),
 * and this profile splits their totals into round trips and in-script calls.
 */
export interface CommandProfile {
  /** Commands the server sent per request (round trips; a script call counts once). */
  perRequest: number;
  /** Commands run inside scripts per request. */
  inScriptPerRequest: number;
  /** Each distinct command (name and what it touches), with how many per request. */
  commands: Array<{ command: string; perRequest: number }>;
}

/** Script SHA1 -> name, for the scripts agent-session's core runs (EVALSHA shows only the SHA). */
const scriptNames = new Map<string, string>();
for (const value of Object.values(coreScripts)) {
  const script = value as { sha1?: unknown; name?: unknown };
  if (typeof script?.sha1 === 'string' && typeof script.name === 'string') scriptNames.set(script.sha1, script.name);
}

/** A key with its random ids replaced: "sess:Zx9...q" -> "sess:<id>". */
export function normaliseKey(key: string): string {
  return key.replace(/[A-Za-z0-9_\-.%]{16,}/g, '<id>');
}

/** "GET sess:Zx9..." -> "GET sess:<id>"; "EVALSHA 3f2a..." -> "EVALSHA agent-session:read". */
export function normaliseCommand(line: string): string {
  const [name = '', target = ''] = line.split(' ', 2);
  const command = name.toUpperCase();
  if (command === 'EVALSHA' || command === 'EVAL') {
    const named = scriptNames.get(target.toLowerCase());
    return `${command} ${named ?? (command === 'EVAL' ? '<script source>' : `${target.slice(0, 8)}…`)}`;
  }
  return `${command} ${normaliseKey(target)}`.trim();
}

export interface CommandLog {
  profile(requests: number, send: () => Promise<void>): Promise<CommandProfile>;
  close(): Promise<void>;
}

export async function openCommandLog(redis: BenchRedis): Promise<CommandLog> {
  return {
    async profile(requests, send) {
      // MONITOR only while profiling: a monitored Redis streams every command,
      // script-internal ones included, to the runner (which also drives the
      // load), so leaving it on would tax every measured run, and a server
      // whose scripts write more (the cold tier's backlog copy) more than others.
      const counter: CommandCounter = await watchCommands(redis.url);
      try {
        const before = await redis.commandStats();
        // Health checks of idle servers' clients are not per-request work.
        const lines = (
          await counter.during(async () => {
            for (let i = 0; i < requests; i++) await send();
          })
        ).filter((line) => !/^ping\b/i.test(line));
        const after = await redis.commandStats();
        const all = callsBetween(before, after); // PING is left out here too
        const counts = new Map<string, number>();
        for (const line of lines) {
          const command = normaliseCommand(line);
          counts.set(command, (counts.get(command) ?? 0) + 1);
        }
        return {
          perRequest: lines.length / requests,
          inScriptPerRequest: Math.max(0, all - lines.length) / requests,
          commands: [...counts].map(([command, count]) => ({ command, perRequest: count / requests })),
        };
      } finally {
        await counter.close();
      }
    },
    close: async () => {},
  };
}
