import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';
import { eventually } from './wait.js';

/**
 * Sentinel and Cluster setups built from real redis-server processes (through
 * startRedisServer), each with one dispose() that stops everything.
 */

export interface SentinelSetup {
  master: RedisServer;
  sentinel: RedisServer;
  masterName: string;
  sentinelNode: { host: string; port: number };
  dispose(): Promise<void>;
}

/**
 * One master and one sentinel monitoring it with quorum 1. With passwords,
 * the master requires `masterPassword` (the sentinel is told it via
 * auth-pass) and the sentinel requires `sentinelPassword`.
 */
export async function startSentinelSetup(options: { masterPassword?: string; sentinelPassword?: string } = {}): Promise<SentinelSetup> {
  const masterName = 'agent-session-test';
  const master = await startRedisServer({ args: options.masterPassword ? ['--requirepass', options.masterPassword] : [] });
  try {
    const lines = [
      `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
      // Long enough that a test stopping the master does not start a failover.
      `sentinel down-after-milliseconds ${masterName} 60000`,
      ...(options.masterPassword ? [`sentinel auth-pass ${masterName} ${options.masterPassword}`] : []),
      ...(options.sentinelPassword ? [`requirepass ${options.sentinelPassword}`] : []),
    ];
    const sentinel = await startRedisServer({ sentinelConfig: lines.join('\n') + '\n', readyLine: /\+monitor master/ });
    return {
      master,
      sentinel,
      masterName,
      sentinelNode: { host: '127.0.0.1', port: sentinel.port },
      dispose: async () => {
        await Promise.all([sentinel.dispose(), master.dispose()]);
      },
    };
  } catch (error) {
    await master.dispose();
    throw error;
  }
}

export interface ClusterSetup {
  nodes: RedisServer[];
  rootNodes: Array<{ host: string; port: number }>;
  dispose(): Promise<void>;
}

const SLOTS = 16_384;

/**
 * A cluster of `size` masters (no replicas): slots split evenly with
 * CLUSTER ADDSLOTSRANGE, nodes joined with CLUSTER MEET, ready once every
 * node reports cluster_state:ok and knows all the others. `password`
 * protects every node (requirepass, masterauth).
 */
export async function startCluster(options: { size?: number; password?: string } = {}): Promise<ClusterSetup> {
  const size = options.size ?? 3;
  const auth = options.password ? ['--requirepass', options.password, '--masterauth', options.password] : [];
  const nodes: RedisServer[] = [];
  // Explicit bus ports: the default (port + 10000) may be taken or out of range.
  const busPorts: number[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  };
  try {
    for (let i = 0; i < size; i++) {
      const busPort = await freePort();
      busPorts.push(busPort);
      nodes.push(
        await startRedisServer({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '5000', ...auth],
        }),
      );
    }
    const admins = await Promise.all(nodes.map((node) => createClient({ url: node.url, password: options.password }).on('error', () => {}).connect()));
    try {
      await Promise.all(
        admins.map((admin, i) => {
          const from = Math.floor((SLOTS * i) / size);
          const to = Math.floor((SLOTS * (i + 1)) / size) - 1;
          return admin.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)]);
        }),
      );
      const first = admins[0]!;
      for (let i = 1; i < size; i++) await first.sendCommand(['CLUSTER', 'MEET', '127.0.0.1', String(nodes[i]!.port), String(busPorts[i])]);
      await eventually('cluster_state:ok on every node', async () => {
        const infos = await Promise.all(admins.map((admin) => admin.sendCommand<string>(['CLUSTER', 'INFO'])));
        return infos.every((info) => String(info).includes('cluster_state:ok') && String(info).includes(`cluster_known_nodes:${size}`));
      });
    } finally {
      for (const admin of admins) admin.destroy();
    }
    return { nodes, rootNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

export interface FailoverSetup {
  master: RedisServer;
  replica: RedisServer;
  sentinels: RedisServer[];
  masterName: string;
  sentinelNodes: Array<{ host: string; port: number }>;
  /** The master's address as the sentinels see it now (it changes after a failover). */
  currentMaster(): Promise<{ host: string; port: number }>;
  dispose(): Promise<void>;
}

/**
 * The production shape of Sentinel: one master, one replica and three
 * sentinels with quorum 2, which do fail over. `downAfterMs` is the
 * sentinels' down-after-milliseconds; `args` go to both data nodes (e.g.
 * appendonly). Ready once the replica's link is up and every sentinel
 * knows the replica and the two other sentinels (without that, a failover
 * would find no quorum or no replica to promote).
 */
export async function startFailoverSetup(options: { downAfterMs?: number; args?: string[] } = {}): Promise<FailoverSetup> {
  const masterName = 'agent-session-failover';
  const downAfterMs = options.downAfterMs ?? 2_000;
  const started: RedisServer[] = [];
  const dispose = async () => {
    await Promise.all(started.map((server) => server.dispose()));
  };
  try {
    // The first sync starts at once rather than after the default 5 s wait for more replicas.
    const master = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0', ...(options.args ?? [])] });
    started.push(master);
    const replica = await startRedisServer({ args: [...(options.args ?? []), '--replicaof', '127.0.0.1', String(master.port)] });
    started.push(replica);
    const admin = await createClient({ url: master.url }).on('error', () => {}).connect();
    try {
      await eventually('the replica is online', async () => /slave0:.*state=online/.test(await admin.info('replication')));
    } finally {
      admin.destroy();
    }
    // Each sentinel is told the replica and the two others up front (as a
    // sentinel rewrites its own config once it has discovered them), so the
    // set-up is ready at once instead of after rounds of hello messages.
    const ports = [await freePort(), await freePort(), await freePort()];
    const ids = ports.map(() => randomBytes(20).toString('hex'));
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const config = [
        `sentinel myid ${ids[i]}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        `sentinel known-replica ${masterName} 127.0.0.1 ${replica.port}`,
        ...ports.flatMap((port, j) => (j === i ? [] : [`sentinel known-sentinel ${masterName} 127.0.0.1 ${port} ${ids[j]}`])),
      ];
      const sentinel = await startRedisServer({ port: ports[i]!, sentinelConfig: config.join('\n') + '\n', readyLine: /\+monitor master/ });
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    const clients = await Promise.all(sentinels.map((sentinel) => createClient({ url: sentinel.url }).on('error', () => {}).connect()));
    try {
      await eventually(
        'every sentinel sees the replica and the other two sentinels',
        async () => {
          const views = await Promise.all(
            clients.map(async (client) => ({
              master: fieldsOf(await client.sendCommand<unknown>(['SENTINEL', 'MASTER', masterName])),
              replicas: (await client.sendCommand<unknown[]>(['SENTINEL', 'REPLICAS', masterName])).map(fieldsOf),
            })),
          );
          return views.every(
            ({ master: view, replicas }) => view.get('num-other-sentinels') === '2' && replicas.length === 1 && replicas[0]!.get('flags') === 'slave' && replicas[0]!.get('master-link-status') === 'ok',
          );
        },
        30_000,
      );
    } finally {
      for (const client of clients) client.destroy();
    }
    const sentinelNodes = sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port }));
    return {
      master,
      replica,
      sentinels,
      masterName,
      sentinelNodes,
      currentMaster: async () => {
        for (const sentinel of sentinels) {
          const client = await createClient({ url: sentinel.url }).on('error', () => {}).connect().catch(() => undefined);
          if (!client) continue;
          try {
            const [host, port] = await client.sendCommand<[string, string]>(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]);
            return { host, port: Number(port) };
          } finally {
            client.destroy();
          }
        }
        throw new Error('no sentinel answered');
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** A field/value reply (a flat array, a Map or an object, as the client decodes it) as a Map of strings. */
function fieldsOf(reply: unknown): Map<string, string> {
  if (reply instanceof Map) return new Map([...reply].map(([key, value]) => [String(key), String(value)]));
  if (!Array.isArray(reply)) return new Map(Object.entries(reply as Record<string, unknown>).map(([key, value]) => [key, String(value)]));
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
  return fields;
}
