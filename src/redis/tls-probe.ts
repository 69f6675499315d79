import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { RedisNodeAddress } from './types.js';

/**
 * After a start-up that failed without a telling error (a timeout, a socket
 * closed or reset), asks the server once in the other protocol: a client
 * using TLS against a server without it hangs in the handshake, and one
 * without TLS against a TLS port is hung up on, and neither error says
 * "TLS". Returns the hint for the start-up error when the other protocol is
 * answered, else `undefined`. Sends nothing but a TLS handshake or one PING.
 */
export async function tlsMismatchHint(node: RedisNodeAddress, usesTls: boolean, timeoutMs: number): Promise<string | undefined> {
  if (usesTls) {
    return (await answersWithoutTls(node, timeoutMs))
      ? 'TLS may be the cause: the server answers without TLS, so it does not speak TLS on this port; use redis:// (and no `tls` option), or enable TLS on the server.'
      : undefined;
  }
  return (await speaksTls(node, timeoutMs))
    ? 'TLS may be the cause: the server expects TLS on this port; use rediss:// (or the `tls` option, with `ca` for a private CA).'
    : undefined;
}

/** Whether a plain-text PING gets a RESP reply (`+PONG`, or an error such as `-NOAUTH`). */
function answersWithoutTls(node: RedisNodeAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: node.host, port: node.port });
    const timer = setTimeout(() => done(false), timeoutMs);
    function done(answer: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    }
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 0x2b /* + */ || chunk[0] === 0x2d /* - */));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/**
 * Whether the server takes part in a TLS handshake: it completes (the
 * certificate is not judged here), or the server ends it with a TLS alert,
 * as one that requires a client certificate does.
 */
function speaksTls(node: RedisNodeAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTls({
      host: node.host,
      port: node.port,
      rejectUnauthorized: false,
      ...(isIP(node.host) === 0 ? { servername: node.host } : {}),
    });
    const timer = setTimeout(() => done(false), timeoutMs);
    function done(answer: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    }
    socket.once('secureConnect', () => done(true));
    socket.once('error', (error: Error) => done(/alert/i.test(error.message)));
    socket.once('close', () => done(false));
  });
}
