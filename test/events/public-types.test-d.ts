/**
 * The session-event types as an app compiles against them (type-checked by
 * `npm test`'s tsc; nothing here runs): the exact shape another module (the
 * SSE handlers) codes against.
 */
import { expectTypeOf } from 'vitest';
import { createAgentStore, type RedisConnection, type SessionEvent, type SessionEventGap, type SessionEventType, type SubscribeOptions } from 'agent-session';

declare const redis: RedisConnection;
const store = createAgentStore({ redis, events: true });
createAgentStore({ redis, events: false });

expectTypeOf<SessionEventType>().toEqualTypeOf<
  | 'created'
  | 'turn_appended'
  | 'meta_updated'
  | 'tool_call_started'
  | 'tool_call_completed'
  | 'tool_call_failed'
  | 'notes_written'
  | 'observer_error'
  | 'observation_queued'
  | 'deleted'
  | 'restored'
>();
expectTypeOf<SessionEvent>().toEqualTypeOf<{ sessionId: string; type: SessionEventType; seq?: number; callId?: string; at: number }>();
expectTypeOf<SessionEventGap>().toEqualTypeOf<{ type: 'gap' }>();
expectTypeOf<SubscribeOptions>().toMatchTypeOf<{ onGap?: () => void; signal?: AbortSignal }>();

expectTypeOf(store.subscribe('id', (event) => expectTypeOf(event).toEqualTypeOf<SessionEvent>())).resolves.toEqualTypeOf<() => Promise<void>>();
store.subscribe('id', () => undefined, { onGap: () => undefined, signal: AbortSignal.timeout(1000) });
expectTypeOf(store.events('id', { signal: new AbortController().signal })).toEqualTypeOf<AsyncIterable<SessionEvent | SessionEventGap>>();
// @ts-expect-error a listener is required
store.subscribe('id');
// @ts-expect-error events is a boolean
createAgentStore({ redis, events: 'on' });
