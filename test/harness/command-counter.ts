import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

/**
 * Watches a redis-server with MONITOR and counts the commands clients send,
 * leaving out the ones that Lua scripts run internally: "one round trip" is
 * then a number the server itself reports, not a guess from the client side.
 * Use a server private to the test so no other test's traffic is counted.
 */
export interface CommandCounter {
  /** The commands (name and first argument; every argument with `{ allArguments: true }`) sent while `operation` ran. */
  during(operation: () => Promise<unknown>, options?: { allArguments?: boolean }): Promise<string[]>;
  close(): Promise<void>;
}

export async function watchCommands(url: string): Promise<CommandCounter> {
  const monitor = createClient({ url });
  const marker = createClient({ url });
  monitor.on('error', () => {});
  marker.on('error', () => {});
  await Promise.all([monitor.connect(), marker.connect()]);

  let lines: string[] = [];
  let waiting: { token: string; resolve: () => void } | undefined;
  await monitor.monitor((line: string) => {
    if (waiting && line.includes(waiting.token)) {
      waiting.resolve();
      return;
    }
    // Script-internal commands are logged as "[0 lua]"; they are not round trips.
    // PINGs are connectRedis's keepalive (pingInterval) and TIMEs its unresponsiveness probe, sent on a timer, not by a request.
    if (!/\[\d+ lua\]/.test(line) && !/\] "(PING|TIME)"$/i.test(line.trim())) lines.push(line);
  });

  /** Sends a marker command and waits until MONITOR has shown it: every earlier command has been seen. */
  const sync = async () => {
    const token = `sync-${randomBytes(4).toString('hex')}`;
    const seen = new Promise<void>((resolve) => (waiting = { token, resolve }));
    await marker.echo(token);
    await seen;
    waiting = undefined;
  };

  return {
    async during(operation, options = {}) {
      await sync();
      lines = [];
      await operation();
      await sync();
      return lines.map((line) => {
        const args = line.match(/"((?:[^"\\]|\\.)*)"/g) ?? [];
        return (options.allArguments ? args : args.slice(0, 2)).map((arg) => arg.slice(1, -1)).join(' ');
      });
    },
    async close() {
      await Promise.allSettled([monitor.close(), marker.close()]);
    },
  };
}
