import type { TestClient } from './store.js';

/**
 * What a Redis server says of its pub/sub state, for the tests that check
 * subscriptions are made and given back (no channel or connection left).
 */

/** Subscribers of a channel, as the server counts them (PUBSUB NUMSUB). */
export async function subscriberCount(on: TestClient, channel: string): Promise<number> {
  const reply = (await on.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number];
  return Number(reply[1]);
}

/** Channels with at least one subscriber whose name starts with `prefix` (PUBSUB CHANNELS), sorted. */
export async function channelsUnder(on: TestClient, prefix: string): Promise<string[]> {
  return ((await on.sendCommand(['PUBSUB', 'CHANNELS', `${prefix}*`])) as string[]).sort();
}

/** The pub/sub connections of a server (CLIENT LIST TYPE pubsub) as { id, sub } (sub: channels subscribed). */
export async function pubsubConnections(on: TestClient): Promise<Array<{ id: string; sub: number }>> {
  const list = String(await on.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1] ?? '', sub: Number(/\bsub=(\d+)/.exec(line)?.[1] ?? -1) }));
}

/** The sharded channels under `prefix` each Cluster master has subscribers for (PUBSUB SHARDCHANNELS), sorted. */
export async function shardChannelsPerMaster(masters: TestClient[], prefix: string): Promise<string[][]> {
  return Promise.all(masters.map(async (master) => ((await master.sendCommand(['PUBSUB', 'SHARDCHANNELS', `${prefix}*`])) as string[]).sort()));
}
