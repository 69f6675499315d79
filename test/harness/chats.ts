import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import type { RedisConnection } from 'agent-session';
import { agentSession, agentSessionErrorHandler } from 'agent-session/express';

/**
 * Chats against a real Express app over HTTP, for the topology scripts
 * (scripts/topology.ts) and their tests (test/deployment/): each chat is one
 * browser with its own cookie that appends a turn, waits for the answer and
 * appends the next. Every call is recorded with when it was issued and
 * answered; afterwards `verify` reads each conversation back and names the
 * acknowledged turns (answered 2xx) that are not in it.
 */

export interface ChatApp {
  readonly url: string;
  close(): Promise<void>;
}

/** Above any turn count a run reaches, so every turn stays in the window and can be checked. */
export const CHAT_WINDOW = 100_000;
const SECRET = 'topology-secret-'.repeat(3);

/**
 * POST /chat {content} appends a user turn and answers {seq};
 * GET /chat answers {turnCount, contents} with the whole window.
 * The cookie is not Secure (plain http on loopback).
 */
export async function startChatApp(redis: RedisConnection): Promise<ChatApp> {
  const app = express();
  app.use(express.json());
  app.use(agentSession({ redis, secret: SECRET, cookie: { secure: false }, maxTurns: CHAT_WINDOW, logger: () => {} }));
  app.post('/chat', async (req, res) => {
    const turn = await req.agent.appendTurn({ role: 'user', content: String(req.body?.content ?? '') });
    res.json({ seq: turn.seq });
  });
  app.get('/chat', async (req, res) => {
    if (!req.agent.id) {
      res.json({ turnCount: 0, contents: [] });
      return;
    }
    const snapshot = await req.agent.snapshot({ lastTurns: CHAT_WINDOW });
    res.json({ turnCount: snapshot.meta?.turnCount ?? 0, contents: snapshot.turns.map((turn) => turn.content) });
  });
  app.use(agentSessionErrorHandler());
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ChatCall {
  chat: number;
  content: string;
  /** performance.now() when sent and when answered (or failed). */
  issuedAt: number;
  settledAt: number;
  /** HTTP status, or 0 when the request itself failed. */
  status: number;
}

export interface ChatRun {
  readonly calls: readonly ChatCall[];
  /** Stops every chat after its call in flight and resolves with all calls. */
  stop(): Promise<ChatCall[]>;
  /** The cookie of each chat (undefined until its first answered call). */
  readonly cookies: ReadonlyArray<string | undefined>;
}

export interface ChatOptions {
  chats: number;
  /** Pause after a failed call before the next (a client backing off). */
  retryPauseMs?: number;
  /** Timeout of one HTTP call. */
  callTimeoutMs?: number;
}

export function runChats(url: string, options: ChatOptions): ChatRun {
  const calls: ChatCall[] = [];
  const cookies: Array<string | undefined> = new Array(options.chats).fill(undefined);
  let stopping = false;
  const loop = async (chat: number) => {
    for (let n = 1; !stopping; n++) {
      const content = `chat ${chat} turn ${n}`;
      const issuedAt = performance.now();
      let status = 0;
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        const cookie = cookies[chat];
        if (cookie) headers.cookie = cookie;
        const response = await fetch(`${url}/chat`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ content }),
          signal: AbortSignal.timeout(options.callTimeoutMs ?? 10_000),
        });
        await response.arrayBuffer();
        status = response.status;
        const set = response.headers.get('set-cookie');
        if (set && response.ok) cookies[chat] = set.split(';')[0];
      } catch {
        status = 0;
      }
      calls.push({ chat, content, issuedAt, settledAt: performance.now(), status });
      if (status < 200 || status >= 300) await new Promise((resolve) => setTimeout(resolve, options.retryPauseMs ?? 100));
    }
  };
  const loops = Array.from({ length: options.chats }, (_, chat) => loop(chat));
  return {
    calls,
    cookies,
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      return calls;
    },
  };
}

export const acknowledged = (call: ChatCall): boolean => call.status >= 200 && call.status < 300;

export interface Verification {
  acknowledged: number;
  /** Acknowledged turns missing from their conversation. */
  lost: number;
  /** Turns of failed calls that are in the conversation anyway (the write landed, the answer did not). */
  landedAfterFailure: number;
  failed: number;
}

/** Reads every chat's conversation through the app and compares it with the calls. */
export async function verify(url: string, run: ChatRun): Promise<Verification> {
  const stored = new Set<string>();
  for (const cookie of run.cookies) {
    if (!cookie) continue;
    const response = await fetch(`${url}/chat`, { headers: { cookie } });
    if (!response.ok) throw new Error(`GET /chat answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { contents: string[] };
    for (const content of body.contents) stored.add(content);
  }
  const ok = run.calls.filter(acknowledged);
  const failed = run.calls.filter((call) => !acknowledged(call));
  return {
    acknowledged: ok.length,
    lost: ok.filter((call) => !stored.has(call.content)).length,
    landedAfterFailure: failed.filter((call) => stored.has(call.content)).length,
    failed: failed.length,
  };
}

export interface Recovery {
  /** From the event to the first acknowledged call issued after it (ms); undefined: none. */
  firstServedMs?: number;
  /** From the event until every chat had an acknowledged call issued after it (ms); undefined: some chat never did. */
  allServedMs?: number;
  /** Calls that failed after the event. */
  failedAfter: number;
}

/** How long after `at` (performance.now()) the chats were served again. */
export function recoveryAfter(at: number, calls: readonly ChatCall[], chats: number): Recovery {
  const after = calls.filter((call) => call.issuedAt >= at);
  const firstPerChat = new Map<number, number>();
  for (const call of after) {
    if (!acknowledged(call)) continue;
    const seen = firstPerChat.get(call.chat);
    if (seen === undefined || call.settledAt < seen) firstPerChat.set(call.chat, call.settledAt);
  }
  const firsts = [...firstPerChat.values()];
  const recovery: Recovery = { failedAfter: after.filter((call) => !acknowledged(call)).length };
  if (firsts.length > 0) recovery.firstServedMs = Math.min(...firsts) - at;
  if (firstPerChat.size === chats) recovery.allServedMs = Math.max(...firsts) - at;
  return recovery;
}

/** Acknowledged calls per second between two instants. */
export function ackRate(calls: readonly ChatCall[], from: number, to: number): number {
  const count = calls.filter((call) => acknowledged(call) && call.settledAt >= from && call.settledAt < to).length;
  return count / ((to - from) / 1000);
}
