import { createClient } from 'redis';
import { inject } from 'vitest';
import { eventually } from '../harness/wait.js';

/**
 * A raw pattern subscriber on everything under a key prefix, independent of
 * the library's subscription API: it sees every message any script
 * published, so a test can say "exactly these, and nothing else".
 */
export interface Tap {
  /** Every message received so far, in order: { channel, message }. */
  readonly messages: Array<{ channel: string; message: string }>;
  /** Waits until `count` messages have arrived. */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function tapPrefix(prefix: string, url: string = inject('redisUrl')): Promise<Tap> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const messages: Array<{ channel: string; message: string }> = [];
  await client.pSubscribe(`${prefix}*`, (message, channel) => messages.push({ channel, message }));
  return {
    messages,
    waitFor: (count) => eventually(`${count} published messages (have ${messages.length})`, () => messages.length >= count),
    close: async () => {
      await client.close();
    },
  };
}
