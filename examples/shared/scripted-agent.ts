import { createHash, randomUUID } from 'node:crypto';
import { SessionUserMismatchError, ToolCallNotFoundError, ToolCallStateError, type RedisConnection } from 'agent-session';
import type { RequestAgent } from 'agent-session/express';
import { createToolCache, type ToolCache } from 'agent-session/tool-cache';

/**
 * The scripted agent's tool goes through the tool cache: the same message
 * again in the same conversation is answered from the cache, and the call
 * is recorded marked `cached` (the page shows it). Scope 'session': the
 * arguments are the user's own words, so no other conversation may be
 * served the entry.
 */
export function scriptedToolCache(redis: RedisConnection): ToolCache {
  const cache = createToolCache({ redis });
  cache.register({ name: 'count_words', scope: 'session', ttlMs: 10 * 60 * 1000, normalize: { whitespace: 'collapse' } });
  return cache;
}

/**
 * The example servers' agent, shared by the Express and the Koa example: a
 * stand-in for an LLM that needs no API key. It answers deterministically
 * and, like a model that calls a tool, records one tool call per message
 * that goes from pending to completed. Where a real app would call its model,
 * it would do the same steps: append the user turn, record each tool call
 * around running the tool, append the reply.
 */
export async function chat(agent: RequestAgent, message: string, messageId?: string, tools?: ToolCache): Promise<{ reply: string; turnCount: number }> {
  // With the client's message id, each write has an idempotency key of its own, so a retried
  // request (after a 503 or a timeout) repeats the first one's writes instead of adding more.
  const retry = (step: string) => (messageId === undefined ? undefined : { idempotencyKey: `${messageId}:${step}` });
  await agent.appendTurn({ role: 'user', content: message }, retry('user'));

  const callId = messageId === undefined ? `call_${randomUUID()}` : `call_${createHash('sha256').update(messageId).digest('base64url').slice(0, 32)}`;
  await agent.startToolCall({ id: callId, name: 'count_words', args: { text: message } }, retry('tool'));
  // Through the cache when there is one: its answer says whether it ran the tool.
  const { result: counted, cached } = tools
    ? await tools.call('count_words', { text: message }, () => countWords(message), { sessionId: agent.id! })
    : { result: countWords(message), cached: false };
  try {
    await agent.completeToolCall(callId, counted, { cached });
  } catch (error) {
    // A retry: the first attempt finished the call already.
    if (messageId === undefined || !(error instanceof ToolCallStateError || error instanceof ToolCallNotFoundError)) throw error;
  }

  const reply = `You wrote ${counted.words} word${counted.words === 1 ? '' : 's'}; the longest is "${counted.longest}".`;
  const turn = await agent.appendTurn({ role: 'assistant', content: reply, toolCallId: callId }, retry('reply'));
  // Fire and forget: the observer worker (npm run observer) analyses the
  // conversation in the background; this request does not wait for it.
  await agent.requestObservation();
  return { reply, turnCount: turn.seq };
}

/**
 * The client's id for a chat message, from the body's `messageId` or the
 * `Idempotency-Key` header: undefined when it sent none, false when it is
 * not 1-120 characters of letters, digits and `-_.:` (answer 400).
 */
export function clientMessageId(value: unknown): string | undefined | false {
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,120}$/.test(value) ? value : false;
}

/** GET /state's body: the conversation as the app and the observer see it. */
export async function conversationState(agent: RequestAgent, userId: string) {
  const { meta, turns, toolCalls, notes } = await agent.snapshot({ lastTurns: 10, notes: { maxAgeMs: 60_000, maxLagTurns: 4 } });
  return { userId, agentSessionId: agent.id ?? null, turnCount: meta?.turnCount ?? 0, turns, toolCalls, observer: notes };
}

/**
 * What POST /login does to the agent state, before the cookie session is
 * regenerated and switched to the user: a conversation bound to another user
 * who used this browser is detached, not deleted (it is theirs: it stays
 * theirs, out of this user's reach, and expires on its own); an anonymous one
 * is kept and, by the first write, bound to the user who just logged in.
 * Call `leaveOtherUsersConversation` before switching the session's user,
 * `startConversation` after.
 */
export function leaveOtherUsersConversation(agent: RequestAgent, userId: string): void {
  if (agent.userId !== undefined && agent.userId !== userId) agent.detach();
}

/**
 * What POST /logout does to the agent state. Without the cold tier: deletes
 * the conversation of the user who logs out; one that is not theirs (the
 * binding in Redis says so) is only detached, as delete() refuses another
 * user's conversation. With the cold tier (`keep`): nothing, since the point
 * of the archive is to come back to it: after the next login it is listed by
 * GET /conversations and can be resumed, and it leaves Redis after its idle
 * timeout. (delete() would erase it from PostgreSQL too: the user's right to
 * erasure, for a route of its own in a real app.)
 */
export async function endConversation(agent: RequestAgent, options: { keep: boolean }): Promise<void> {
  if (options.keep) return;
  try {
    await agent.delete();
  } catch (error) {
    if (!(error instanceof SessionUserMismatchError)) throw error;
    agent.detach();
  }
}

export async function startConversation(agent: RequestAgent): Promise<string> {
  await agent.update({ agentId: 'scripted-example', model: 'deterministic' });
  return agent.id!;
}

function countWords(text: string): { words: number; longest: string } {
  const words = text.split(/\s+/).filter(Boolean);
  const longest = words.reduce((best, word) => (word.length > best.length ? word : best), '');
  return { words: words.length, longest };
}
