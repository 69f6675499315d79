import type { IncomingMessage } from 'node:http';

/**
 * What the example servers accept from a client, checked before anything is
 * written to the session: a request that fails a check changes nothing.
 * The bounds follow the library's defaults (README, "Limits"), so a request
 * the library would refuse is refused here first, with a precise answer.
 */

/** Largest request body: a chat message (32 KiB) with room for JSON escaping. */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** The library's `maxUserIdBytes` default. */
export const USER_ID_MAX_BYTES = 256;
/** The library's `limits.turnContentBytes` default. */
export const MESSAGE_MAX_BYTES = 32 * 1024;

/** A refusal with its answer. */
export class RequestRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

/** The user id to log in: a non-empty string of at most 256 UTF-8 bytes without control characters, else undefined. */
export function validUserId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > USER_ID_MAX_BYTES) return undefined;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(value) ? undefined : value;
}

/** A chat message: a non-empty string ('message_required'), at most 32 KiB ('message_too_long'). */
export function checkMessage(value: unknown): { message: string } | { error: 'message_required' | 'message_too_long' } {
  if (typeof value !== 'string' || value.length === 0) return { error: 'message_required' };
  return Buffer.byteLength(value) > MESSAGE_MAX_BYTES ? { error: 'message_too_long' } : { message: value };
}

/**
 * A JSON object body of at most `limitBytes`, for a server without a body
 * parser (the Koa example). Stops reading at the limit: a larger body (or a
 * Content-Length that says so) is `RequestRefused` 413 without being held
 * in memory; a body that is not JSON is 400 'invalid_json'. No body is {}.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes = BODY_LIMIT_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw new RequestRefused(413, 'payload_too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    // Stop reading; the answer closes the connection (see errorAnswer), so the rest is never read.
    if (size > limitBytes) throw new RequestRefused(413, 'payload_too_large');
    chunks.push(buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestRefused(400, 'invalid_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestRefused(400, 'invalid_json');
  return value as Record<string, unknown>;
}
