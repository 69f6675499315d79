/**
 * The HTTP contract every bench server answers, and the data it answers with.
 * The runner and all eight servers import this one module, so "the same
 * routes with the same data" holds by construction.
 *
 *   POST /login   {"userId","turns"}  regenerates the session and seeds `turns` turns of history
 *   GET  /read                        {"userId","turnCount","turns": the last READ_LAST turns}
 *   POST /append  {"content"}         adds one user turn; {"turnCount"}
 *   GET  /touch                       uses the session, not the agent state; {"userId"}
 *
 * Servers with a session answer 401 {"error":"login_required"} without one.
 */

export const SCENARIOS = ['read', 'append', 'touch'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const ROUTES = {
  login: { method: 'POST', path: '/login' },
  read: { method: 'GET', path: '/read' },
  append: { method: 'POST', path: '/append' },
  touch: { method: 'GET', path: '/touch' },
} as const;

/** How many of the newest turns /read returns. */
export const READ_LAST = 10;

/** The history every scenario runs on, unless a growth stage says otherwise. */
export const DEFAULT_HISTORY = 50;

export type TurnRole = 'user' | 'assistant';

/** A turn as every server returns it. */
export interface TurnView {
  seq: number;
  ts: number;
  role: string;
  content: string;
}

export interface ReadView {
  userId: string;
  turnCount: number;
  turns: TurnView[];
}

export interface LoginBody {
  userId: string;
  turns: number;
}

// --- realistic turns --------------------------------------------------------

const WORDS = (
  'the order shipment invoice refund customer account payment warehouse delivery address tracking number ' +
  'status update request support ticket priority schedule meeting calendar reminder report summary draft ' +
  'budget forecast quarter revenue region team manager approval policy contract renewal vendor quote ' +
  'please check confirm whether when could would should about since before after because which their ' +
  'latest previous next current pending completed failed retry escalate notify review compare estimate'
).split(' ');

/** Deterministic text of about `length` characters (a small LCG, so every server and run sees the same). */
export function prose(seed: number, length: number): string {
  let state = (seed * 2654435761 + 97) >>> 0;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    state = (state * 1664525 + 1013904223) >>> 0;
    const word = WORDS[state % WORDS.length] ?? 'the';
    parts.push(word);
    size += word.length + 1;
  }
  const text = parts.join(' ').slice(0, length - 1);
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Content length that makes a stored turn (JSON with seq, ts and role) about 500 bytes. */
export const TURN_CONTENT_CHARS = 440;

/** The input of the i-th turn (0-based) of a seeded history: users ask, the assistant answers. */
export function historyTurn(index: number): { role: TurnRole; content: string } {
  return { role: index % 2 === 0 ? 'user' : 'assistant', content: prose(index + 1, TURN_CONTENT_CHARS) };
}

/** The body of every /append request: one user message of about 450 bytes. */
export const APPEND_CONTENT = prose(424242, TURN_CONTENT_CHARS);
export const APPEND_BODY = JSON.stringify({ content: APPEND_CONTENT });

/**
 * The last READ_LAST turns of a history of `count` turns, for servers that
 * keep no turns (the bare ceiling and the small-session floor): their /read
 * returns the same bytes a real store would.
 */
export function fixedTail(count: number, ts = 1_700_000_000_000): TurnView[] {
  const tail: TurnView[] = [];
  for (let index = Math.max(0, count - READ_LAST); index < count; index++) {
    tail.push({ seq: index + 1, ts: ts + index, ...historyTurn(index) });
  }
  return tail;
}

/** Reads the login body leniently: a missing or odd `turns` means the default history. */
export function parseLogin(body: unknown): LoginBody {
  const input = (body ?? {}) as Partial<LoginBody>;
  const userId = typeof input.userId === 'string' && input.userId.length > 0 ? input.userId : 'bench-user';
  const turns = Number.isSafeInteger(input.turns) && (input.turns as number) >= 0 ? (input.turns as number) : DEFAULT_HISTORY;
  return { userId, turns };
}

/** The content of an /append body, or undefined when it has none. */
export function appendContent(body: unknown): string | undefined {
  const content = (body as { content?: unknown } | undefined)?.content;
  return typeof content === 'string' && content.length > 0 ? content : undefined;
}

export const LOGIN_REQUIRED = { error: 'login_required' } as const;
export const BAD_APPEND = { error: 'content_required' } as const;
