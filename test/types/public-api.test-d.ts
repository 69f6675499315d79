/**
 * The public types as an app compiles against them. `npm test` type-checks
 * this file (tsc, strict): every `@ts-expect-error` line must fail to
 * compile (else "unused directive" fails the check), every other line must
 * compile. Nothing here runs.
 */
import type { Context } from 'koa';
import { expectTypeOf } from 'vitest';
import {
  connectRedis,
  createAgentStore,
  SessionUserMismatchError,
  StoreUnavailableError,
  type AgentSession,
  type AgentSessionErrorCode,
  type AgentStore,
  type AgentStoreOptions,
  type Caller,
  type NotesResult,
  type ObserverBacklog,
  type RedisConnection,
  type ToolCall,
  type Turn,
} from 'agent-session';
import {
  agentEvents,
  agentSession,
  agentSessionErrorHandler,
  httpErrorResponse,
  type AgentSessionEvent,
  type AgentSessionHttpError,
  type ConversationList,
  type HttpErrorCode,
  type RequestAgent,
  type ResumedConversation,
} from 'agent-session/express';
import { agentEvents as koaAgentEvents, agentSession as koaAgentSession } from 'agent-session/koa';
import { createObserverWorker, handleObserverNotesTool, type ObserverWorker } from 'agent-session/observer';
import { createToolCache, lexicalEmbedder, type ToolCache, type ToolCacheResult, type ToolCacheStats } from 'agent-session/tool-cache';

declare const redis: RedisConnection;

// --- the store and its handles ---------------------------------------------

const store = createAgentStore({ redis });
expectTypeOf(store).toEqualTypeOf<AgentStore>();
expectTypeOf(store.create({ userId: 'u1' })).resolves.toEqualTypeOf<AgentSession>();

// Every handle names its caller: there is no default that skips the user check.
store.session('id', { user: 'u1' });
store.session('id', { user: null });
store.session('id', { trusted: 'observer' });
// @ts-expect-error a caller is required
store.session('id');
// @ts-expect-error undefined is not a caller
store.session('id', undefined);
// @ts-expect-error an empty object is not a caller
store.session('id', {});
// @ts-expect-error a user id alone is not a caller (the pre-0.2 form)
store.session('id', { caller: 'u1' });
// @ts-expect-error user must be a string or null
store.session('id', { user: undefined });
expectTypeOf<Caller>().toEqualTypeOf<{ readonly user: string | null } | { readonly trusted: string }>();

declare const session: AgentSession;
expectTypeOf(session.appendTurn({ role: 'user', content: 'hi' })).resolves.toEqualTypeOf<Turn>();
expectTypeOf(session.toolCalls()).resolves.toEqualTypeOf<ToolCall[]>();
expectTypeOf(session.notes<{ summary: string }>()).resolves.toEqualTypeOf<NotesResult<{ summary: string }>>();
// @ts-expect-error roles are a closed set
session.appendTurn({ role: 'robot', content: 'hi' });

// Internals are not part of the public types.
// @ts-expect-error the observer's fenced write is the library's own
session.writeNotes({}, { coversThroughSeq: 1 });
// @ts-expect-error the observer's error record is the library's own
session.writeObserverError('x');
// @ts-expect-error the middleware's combined refresh is the library's own
session.touchAlong('key', 1000);
// @ts-expect-error key names are the library's own
session.keys;
// @ts-expect-error creation goes through store.create()
session.create();
// @ts-expect-error the resolved config (with the raw client) is the library's own
store.config;

// --- the public entry points export no internals ------------------------------

// @ts-expect-error the key schema is internal
import { sessionKeys } from 'agent-session';
// @ts-expect-error the store class is not constructed by apps
import { SessionStore } from 'agent-session';
// @ts-expect-error queue key names are internal
import { observerQueueKey } from 'agent-session/observer';
void sessionKeys;
void SessionStore;
void observerQueueKey;

// --- errors --------------------------------------------------------------------

expectTypeOf(new StoreUnavailableError('down').code).toEqualTypeOf<AgentSessionErrorCode>();
expectTypeOf(new SessionUserMismatchError('id').sessionId).toEqualTypeOf<string>();

// --- connection options ----------------------------------------------------------

void connectRedis({ url: 'redis://127.0.0.1:6379', failFastMs: 1500 });
// @ts-expect-error failFastMs is a number of milliseconds
void connectRedis({ failFastMs: '1500' });
// @ts-expect-error unknown options are refused
void connectRedis({ hots: 'typo' });

// --- middleware ------------------------------------------------------------------

agentSession({ redis, secret: 'x'.repeat(32), getUserId: (req) => req.get('x-user') ?? null });
agentSessionErrorHandler();
// @ts-expect-error Express needs a secret
agentSession({ redis });
expectTypeOf<Express.Request['agent']>().toEqualTypeOf<RequestAgent>();
expectTypeOf<Context['agent']>().toEqualTypeOf<RequestAgent>();
declare const koaApp: Parameters<typeof koaAgentSession>[0];
koaAgentSession(koaApp, { redis, getUserId: (ctx) => ctx.get('x-user') || null });

// Server-sent events of the request's own session.
agentEvents();
agentEvents({ heartbeatMs: 15_000, retryMs: 2_000, maxBufferedBytes: 262_144 });
koaAgentEvents({ heartbeatMs: 30_000 });
// @ts-expect-error unknown options are refused
agentEvents({ heartbeat: 15_000 });
// @ts-expect-error heartbeatMs is a number of milliseconds
koaAgentEvents({ heartbeatMs: '15s' });

declare const event: AgentSessionEvent;
if (event.type === 'debug') expectTypeOf(event.reason).toBeString();

declare const agent: RequestAgent;
expectTypeOf(agent.appendTurn({ role: 'assistant', content: 'ok' })).resolves.toEqualTypeOf<Turn>();
expectTypeOf(agent.subscribe((sessionEvent) => expectTypeOf(sessionEvent.type).toBeString(), { onGap: () => undefined })).resolves.toEqualTypeOf<{
  sessionId: string;
  unsubscribe: () => Promise<void>;
} | null>();

// The cold tier through the middleware.
// What createPgArchive() returns (agent-session/archive); the store's option names its type.
declare const tier: NonNullable<AgentStoreOptions['archive']>['tier'];
agentSession({ redis, secret: 'x'.repeat(32), archive: { tier, maxBacklog: 1_000 } });
koaAgentSession(koaApp, { redis, archive: { tier } });
// @ts-expect-error the archive option needs its tier
agentSession({ redis, secret: 'x'.repeat(32), archive: { maxBacklog: 1_000 } });
expectTypeOf(agent.resume('id')).resolves.toEqualTypeOf<ResumedConversation>();
expectTypeOf(agent.history({ beforeSeq: 120, limit: 20, order: 'newest-first' })).resolves.toEqualTypeOf<Turn[]>();
expectTypeOf(agent.conversations({ limit: 10 })).resolves.toEqualTypeOf<ConversationList>();
// @ts-expect-error history takes a query object, not a seq
void agent.history(120);
declare const httpError: AgentSessionHttpError;
expectTypeOf(httpErrorResponse(httpError, 2).body.error).toEqualTypeOf<HttpErrorCode>();
expectTypeOf<HttpErrorCode>().toEqualTypeOf<
  | 'session_store_unavailable'
  | 'session_user_mismatch'
  | 'archive_backlog_full'
  | 'archive_unavailable'
  | 'idempotency_key_conflict'
  | 'input_invalid'
  | 'payload_too_large'
>();
expectTypeOf(agent.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 'msg-1' })).resolves.toEqualTypeOf<Turn>();
// @ts-expect-error the idempotency key is a string (a client's message id)
void agent.appendTurn({ role: 'user', content: 'hi' }, { idempotencyKey: 1 });

declare const RequestAgentClass: typeof import('agent-session/express');
// @ts-expect-error RequestAgent is exported as a type only: apps get one as req.agent / ctx.agent
new RequestAgentClass.RequestAgent();

// --- observer --------------------------------------------------------------------

const worker = createObserverWorker<{ summary: string }>({
  redis,
  analyze: (input) => {
    expectTypeOf(input.turns).toEqualTypeOf<Turn[]>();
    expectTypeOf(input.signal).toEqualTypeOf<AbortSignal>();
    return { summary: `${input.turns.length} turns` };
  },
});
expectTypeOf(worker).toEqualTypeOf<ObserverWorker<{ summary: string }>>();
expectTypeOf(handleObserverNotesTool(agent, '{}')).resolves.toEqualTypeOf<NotesResult<unknown>>();
// @ts-expect-error analyze is required
createObserverWorker({ redis });
expectTypeOf(worker.backlog()).resolves.toEqualTypeOf<ObserverBacklog>();
expectTypeOf(store.observerBacklog({ kind: 'safety' })).resolves.toEqualTypeOf<{ length: number; pending: number; oldestAgeMs: number | null }>();
createAgentStore({ redis, observerQueue: { maxLength: 10_000, maxAgeMs: 600_000 } });
createObserverWorker({ redis, analyze: () => ({}), observerQueue: { maxAgeMs: 600_000 } });
agentSession({ redis, secret: 'x'.repeat(32), maxUserIdBytes: 512, maxSessionBytes: 128 * 1024, observerQueue: { maxLength: 1_000 } });

// --- tool cache ------------------------------------------------------------------

const toolCache = createToolCache({ redis });
expectTypeOf(toolCache).toEqualTypeOf<ToolCache>();
toolCache.register({ name: 'web_search', scope: 'global', ttlMs: 600_000, similarity: { argument: 'query', embed: lexicalEmbedder(), threshold: 0.85 } });
// @ts-expect-error the scope is required: there is no default that could share a private result
toolCache.register({ name: 'my_orders', ttlMs: 60_000 });
// @ts-expect-error a scope is one of 'global' | 'user' | 'session'
toolCache.register({ name: 'my_orders', scope: 'everyone', ttlMs: 60_000 });
expectTypeOf(toolCache.call('web_search', { query: 'x' }, async () => ({ hits: 1 }))).resolves.toEqualTypeOf<ToolCacheResult<{ hits: number }>>();
expectTypeOf(toolCache.stats()).resolves.toEqualTypeOf<ToolCacheStats>();
// A tool typed with its own arguments is passed as it is: `run` gets the type of `args`.
const searchOrders = async (args: { customer: string; limit: number }) => [args.customer.repeat(args.limit)];
expectTypeOf(toolCache.call('my_orders', { customer: 'c1', limit: 2 }, searchOrders, { userId: 'u1' })).resolves.toEqualTypeOf<ToolCacheResult<string[]>>();
// @ts-expect-error arguments that are not the tool's own
void toolCache.call('my_orders', { customer: 'c1' }, searchOrders, { userId: 'u1' });
// A session handle records the call (and req.agent does too).
void toolCache.call('web_search', { query: 'x' }, () => 1, { record: { session: agent, callId: 'call_1' } });
void toolCache.call('web_search', { query: 'x' }, () => 1, { record: { session: store.session('id', { user: 'u1' }), callId: 'call_1' } });
// @ts-expect-error the RedisToolCache class is not exported
void (null as unknown as typeof import('agent-session/tool-cache')).RedisToolCache;

// --- metrics (agent-session/metrics) -------------------------------------------------

import { Registry } from 'prom-client';
import { agentMetrics, type AgentMetrics } from 'agent-session/metrics';
expectTypeOf(agentMetrics({ redis, register: new Registry() })).toEqualTypeOf<AgentMetrics>();
agentMetrics({ redis, observer: worker, sampleEveryMs: 5_000 }).close();
// The tool cache's figures: createToolCache()'s cache is what toolCache takes.
agentMetrics({ redis, register: new Registry(), toolCache }).close();
// @ts-expect-error the connection is required
agentMetrics({ register: new Registry() });
// @ts-expect-error sampleEveryMs is a number of milliseconds
agentMetrics({ redis, sampleEveryMs: '10s' });
