/**
 * An observer worker beside the example servers: it serves the observation
 * requests `POST /chat` makes, and writes notes that `GET /state` shows.
 *
 *   npm run demo        # the server, in one terminal
 *   npm run observer    # this worker, in another (REDIS_URL, KEY_PREFIX, CONCURRENCY, METRICS_PORT)
 *
 * The analysis is deterministic and rule-based so that the demo needs no
 * model: intent, open questions, follow-up suggestions and a short summary
 * derived from the turns. The comment in `analyze` shows where an LLM call
 * would go. Start as many of these processes as you like, on any machine:
 * they share the queue, and one session is only ever analysed by one of
 * them at a time.
 */
import { connectRedis, type Turn } from 'agent-session';
import { createObserverWorker, type AnalyzeInput, type ObserverEvent } from 'agent-session/observer';
import { serveMetrics, startMetrics } from './shared/metrics.js';

export interface DemoNotes {
  /** What the user is after, judged from their latest message that says. */
  intent: string;
  /** User questions no assistant turn has followed yet. */
  openQuestions: string[];
  /** What the primary agent might do next. */
  followUps: string[];
  summary: string;
  /** Turns analysed over the session's life. */
  turnsAnalyzed: number;
}

const INTENTS: Array<[intent: string, pattern: RegExp]> = [
  ['refund', /\b(refund|money back|charged twice|chargeback)\b/i],
  ['cancellation', /\b(cancel|unsubscribe|close my account)\b/i],
  ['order status', /\b(order|delivery|shipping|tracking|package)\b/i],
  ['bug report', /\b(bug|error|crash|broken|doesn't work|does not work)\b/i],
  ['pricing', /\b(price|pricing|cost|plan|discount)\b/i],
  ['greeting', /^\s*(hi|hello|hey)\b/i],
];

const FOLLOW_UPS: Record<string, string[]> = {
  refund: ['Ask for the order number and the charge date.', 'Check the refund policy window before promising anything.'],
  cancellation: ['Confirm which subscription to cancel.', 'Offer to pause instead of cancelling.'],
  'order status': ['Ask for the order number.', 'Share the tracking link once the order is found.'],
  'bug report': ['Ask for the steps to reproduce and the app version.', 'Offer a workaround while the issue is investigated.'],
  pricing: ['Ask about team size and usage to suggest a plan.'],
  greeting: ['Ask how you can help today.'],
  unknown: ['Ask a clarifying question about what the user needs.'],
};

const clip = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

function questionsIn(turn: Turn): string[] {
  return (turn.content.match(/[^.!?\n]*\?/g) ?? []).map((question) => clip(question.trim(), 160)).filter(Boolean);
}

/** Folds the new turns into the previous notes: the same result whichever worker runs it. */
export function analyzeTurns({ turns, previousNotes }: Pick<AnalyzeInput<DemoNotes>, 'turns' | 'previousNotes'>): DemoNotes {
  const before = previousNotes?.notes;
  let intent = before?.intent ?? 'unknown';
  let openQuestions = [...(before?.openQuestions ?? [])];
  for (const turn of turns) {
    if (turn.role === 'user') {
      intent = INTENTS.find(([, pattern]) => pattern.test(turn.content))?.[0] ?? intent;
      openQuestions.push(...questionsIn(turn));
    } else if (turn.role === 'assistant') {
      openQuestions = []; // an answer followed: treat the questions before it as addressed
    }
  }
  const turnsAnalyzed = (before?.turnsAnalyzed ?? 0) + turns.length;
  const lastUser = [...turns].reverse().find((turn) => turn.role === 'user');
  const summary = lastUser
    ? `${turnsAnalyzed} turns so far; topic: ${intent === 'unknown' ? 'not clear yet' : intent}; the user last said: "${clip(lastUser.content, 80)}"`
    : (before?.summary ?? 'No user message yet.');
  return {
    intent,
    openQuestions: openQuestions.slice(-5),
    followUps: FOLLOW_UPS[intent] ?? FOLLOW_UPS.unknown!,
    summary,
    turnsAnalyzed,
  };
}

function log(event: ObserverEvent): void {
  if (event.type === 'error') console.warn(`observer: ${event.error}`);
  else if (event.type === 'retry') console.warn(`observer: session ${event.sessionId}: attempt ${event.attempt} failed (${event.error}), retrying`);
  else if (event.type === 'run-finished') {
    const detail = event.error ? ` (${event.error})` : event.coversThroughSeq !== undefined ? ` through turn ${event.coversThroughSeq}` : '';
    console.log(`observer: session ${event.sessionId}: ${event.outcome}${detail}${event.requeued ? ', one more run queued' : ''}`);
  }
}

const redis = await connectRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).catch((error: Error) => {
  console.error(`Cannot start the observer: ${error.message}`);
  process.exit(1);
});

const worker = createObserverWorker<DemoNotes>({
  redis,
  keyPrefix: process.env.KEY_PREFIX ?? 'agent:',
  concurrency: Number(process.env.CONCURRENCY ?? 4),
  logger: log,
  async analyze(input) {
    // With a model, this is where the call goes, for example:
    //   const reply = await openai.chat.completions.create(
    //     { model, response_format: { type: 'json_object' }, messages: promptFrom(input.previousNotes, input.turns) },
    //     { signal: input.signal },
    //   );
    //   return JSON.parse(reply.choices[0].message.content);
    // Throwing (rate limit, timeout, bad JSON) is fine: the worker retries with backoff.
    return analyzeTurns(input);
  },
});

await worker.start();
console.log(`observer: serving kind "${worker.kind}" as ${worker.consumerName}; Ctrl-C to stop`);
// Prometheus metrics (README "Metrics"): its runs, the queue, Redis; GET /metrics on METRICS_PORT (default 9464, "off": none).
startMetrics({ redis, observer: worker, keyPrefix: process.env.KEY_PREFIX ?? 'agent:' });
serveMetrics('observer', 9464);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log('observer: stopping (running analyses finish or go back to the queue)');
    void worker
      .stop()
      .then(() => redis.close())
      .finally(() => process.exit(0));
  });
}
