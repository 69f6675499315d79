import type { RedisClientType } from 'redis';
import { clientNow, recordRedisTime } from './clock.js';
import type { RedisConnectionEvent } from './types.js';

/**
 * The unresponsiveness detector of a connection agent-session owns. A Redis
 * that hangs (SIGSTOP, a frozen VM, a dead peer that never resets the
 * connection) keeps the socket open: commands are written and wait for a
 * reply that does not come, and node-redis's idle `socketTimeout` never
 * fires while the app keeps writing. So, every `intervalMs` while the
 * connection is ready, one TIME is sent on it with a deadline of its own
 * (`timeoutMs`):
 * - answered: Redis is responsive, and the reply re-measures the Redis
 *   clock (clock.ts) that script deadlines are written in;
 * - not answered in time: the connection is dropped (`destroy()`, which
 *   fails every command waiting on it at once), and opened again on the
 *   same client (`connect()`, with the reconnect strategy and backoff of
 *   every connection). While Redis stays frozen, the kernel still accepts
 *   the new connection but its handshake is never answered, so the client
 *   is not ready and refuses commands at once (offline queue disabled)
 *   until Redis answers again.
 * The probe goes on the connection it watches, not a separate one: it then
 * also sees a connection that is dead while the server is fine, and it
 * measures the clock of the node the commands go to. It is sent whether or
 * not commands are outstanding (node-redis does not say), which also finds a
 * frozen server before a request does; one small command per interval.
 *
 * Only for a standalone client: a Sentinel or Cluster client manages several
 * connections of its own, which `destroy()`/`connect()` would tear down and
 * rebuild as a whole.
 */
export interface ProbeOptions {
  intervalMs: number;
  timeoutMs: number;
}

export interface Probe {
  stop(): void;
}

export function startProbe(client: RedisClientType, options: ProbeOptions, report: (event: RedisConnectionEvent) => void): Probe {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void probeOnce(), options.intervalMs);
    timer.unref();
  };

  const probeOnce = async () => {
    if (stopped) return;
    if (!client.isReady) return schedule();
    const sentAt = clientNow();
    const answered = await answeredWithin(client, options.timeoutMs);
    if (stopped) return;
    if (answered) {
      recordRedisTime(client, answered, sentAt, clientNow());
      return schedule();
    }
    // A reconnect in between already replaced the connection the probe was sent on.
    if (!client.isReady) return schedule();
    report({
      type: 'error',
      message: `Redis did not answer a health probe within ${options.timeoutMs} ms (hung or unreachable): dropping the connection and reconnecting`,
    });
    client.destroy();
    client.connect().catch(() => {
      // A failure is reported by the client's error event; the reconnect strategy never gives up.
    });
    schedule();
  };

  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The TIME reply, or undefined when there is none within `timeoutMs` (or the command failed). */
function answeredWithin(client: RedisClientType, timeoutMs: number): Promise<readonly unknown[] | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    client.time().then(
      (reply) => {
        clearTimeout(timer);
        resolve(reply as unknown as readonly unknown[]);
      },
      () => {
        clearTimeout(timer);
        // A failed probe (the connection went down meanwhile) is the reconnect logic's business, not a hang.
        resolve([]);
      },
    );
  });
}
