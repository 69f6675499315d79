import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, RedisStartupError } from 'agent-session';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { makeTlsFiles, type TlsFiles } from '../harness/tls.js';

/**
 * TLS with a private CA and a client certificate (the server requires one).
 * The Debian redis-server is built with TLS (it links libssl), so this is not skipped.
 */

let dir: string;
let files: TlsFiles;
let server: RedisServer;
let tlsPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-session-tls-'));
  files = makeTlsFiles(dir);
  tlsPort = await freePort();
  server = await startRedisServer({
    port: tlsPort,
    args: [
      '--port', '0',
      '--tls-port', String(tlsPort),
      '--tls-cert-file', files.serverCertFile,
      '--tls-key-file', files.serverKeyFile,
      '--tls-ca-cert-file', files.caCertFile,
      '--tls-auth-clients', 'yes',
    ],
  });
});

afterAll(async () => {
  await server.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('connects with rediss://, a private CA and a client certificate', async () => {
    const connection = await connectRedis({
      url: `rediss://127.0.0.1:${tlsPort}`,
      tls: { ca: files.ca, cert: files.clientCert, key: files.clientKey },
      logger: () => {},
    });
    try {
      const client = connection.client as RedisClientType;
      await client.set('tls:key', 'over tls');
      expect(await client.get('tls:key')).toBe('over tls');
      expect((await connection.health()).state).toBe('ready');
    } finally {
      await connection.close();
    }
  });

  it('connects with host/port and tls options, checking the name given by servername', async () => {
    const connection = await connectRedis({
      host: '127.0.0.1',
      port: tlsPort,
      tls: { ca: Buffer.from(files.ca), cert: files.clientCert, key: files.clientKey, servername: 'localhost' },
      logger: () => {},
    });
    expect(await (connection.client as RedisClientType).ping()).toBe('PONG');
    await connection.close();
  });

  it('rejects start-up with a hint when the server certificate is not trusted', async () => {
    const error = await connectRedis({
      url: `rediss://127.0.0.1:${tlsPort}`,
      tls: { cert: files.clientCert, key: files.clientKey },
      connectTimeoutMs: 1_000,
      logger: () => {},
    }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RedisStartupError);
    expect((error as Error).message).toMatch(/certificate/);
    expect((error as Error).message).toMatch(/Check the `tls` options/);
  });

  it('says that TLS may be the cause when rediss:// meets a server without TLS', async () => {
    const plain = await startRedisServer();
    try {
      const error = await connectRedis({
        url: `rediss://127.0.0.1:${plain.port}`,
        tls: { ca: files.ca },
        // The handshake hangs (the server waits for a line of text): start-up ends at the timeout.
        connectTimeoutMs: 1_000,
        logger: () => {},
      }).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(RedisStartupError);
      expect((error as Error).message).toMatch(/TLS may be the cause: .*does not speak TLS.*use redis:\/\//);
    } finally {
      await plain.dispose();
    }
  });

  it('says that TLS may be the cause when redis:// meets a server that expects TLS', async () => {
    const error = await connectRedis({ url: `redis://127.0.0.1:${tlsPort}`, connectTimeoutMs: 1_000, logger: () => {} }).catch(
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(RedisStartupError);
    expect((error as Error).message).toMatch(/TLS may be the cause: .*expects TLS.*use rediss:\/\//);
  });
});
