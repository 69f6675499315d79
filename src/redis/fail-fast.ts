import { ErrorReply } from 'redis';
import { AgentSessionError, StoreUnavailableError } from '../errors.js';
import { instrumentation } from '../instrumentation.js';
import { toPermissionError } from './permission.js';

/** Default bound on how long any library call waits for Redis before failing. */
export const DEFAULT_FAIL_FAST_MS = 2_000;

/**
 * Server replies that mean "not able to serve right now" rather than "your
 * command is wrong": a replica promoted mid-failover, a cluster healing, a
 * server still loading its dataset.
 */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS)\b/;

/**
 * True when an error means Redis could not be reached or did not answer in
 * time (as opposed to Redis answering with an error for a bad command).
 * node-redis raises several distinct classes for this (offline, closed,
 * socket closed, timeouts); they are matched by name so that a client from a
 * different copy of node-redis, handed in by the app, is classified too.
 */
export function isUnavailability(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (error instanceof AgentSessionError) return false;
  if (error instanceof ErrorReply || (error instanceof Error && error.constructor.name === 'SimpleError')) {
    return TRANSIENT_REPLY.test(error.message);
  }
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code)) {
    return true;
  }
  return /^(ClientOfflineError|ClientClosedError|DisconnectsClientError|SocketClosedUnexpectedlyError|ConnectionTimeoutError|SocketTimeoutError|TimeoutError|CommandTimeoutDuringMaintenanceError|SocketTimeoutDuringMaintenanceError|RootNodesUnavailableError|ReconnectStrategyError|AbortError|MaxCommandRedirectionsError)$/.test(
    error.constructor.name,
  ) || /^(Timeout|The client is closed|The client is offline|Socket closed unexpectedly|Connection timeout|Disconnects client)/.test(error.message);
}

/**
 * Runs one Redis operation with a hard deadline. Whatever the topology or the
 * client's own settings (an app-supplied client may queue commands while
 * offline), the returned promise settles within `deadlineMs`: with the
 * operation's result, with the operation's own error, or with a
 * `StoreUnavailableError` when Redis is unreachable or too slow.
 */
export function failFast<T>(operation: () => Promise<T>, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      instrumentation?.timeout();
      reject(new StoreUnavailableError(`no reply within ${deadlineMs} ms`));
    }, deadlineMs);
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(toStoreError(error));
      },
    );
  });
}

/**
 * Maps connection-level failures to `StoreUnavailableError` and ACL refusals
 * (NOPERM) to `RedisPermissionError`; passes every other error through.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof AgentSessionError) return error;
  const denied = toPermissionError(error);
  if (denied) return denied;
  if (!isUnavailability(error)) return error;
  const reason = error instanceof Error ? error.constructor.name : 'unknown error';
  return new StoreUnavailableError(`connection failed (${reason})`, { cause: error });
}
