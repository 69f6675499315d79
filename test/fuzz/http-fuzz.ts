import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * A bounded, seeded HTTP fuzzer for the example servers: the same seed sends
 * the same requests (the order of concurrent answers may differ). It mixes
 * well-formed conversations (login, chat, state, logout, from a few cookie
 * jars, some of them racing each other) with malformed JSON, wrong types,
 * huge and odd strings and user ids, tampered and oversized cookies, odd
 * headers, wrong methods and unknown paths, and checks every answer:
 *
 * - no 500 (nor any 5xx other than a 503 with Retry-After, which a fuzz run
 *   against a healthy Redis should not see either: it is reported too);
 * - no stack trace, no absolute path of this machine, and no message that
 *   another cookie jar stored (each chat message carries a marker naming its
 *   jar) in any body; no marker at all in an error body.
 *
 * What Redis holds afterwards (no key outside the prefix, no cookie session
 * over MAX_STORED_STRING_BYTES) is checked by the caller, which owns the server.
 */

export interface FuzzOptions {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  requests: number;
  seed: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
}

export interface FuzzFinding {
  /** A short class name: the same defect found many times is one class. */
  kind: string;
  status: number | 'no answer';
  method: string;
  path: string;
  detail: string;
}

export interface FuzzReport {
  requests: number;
  statuses: Record<string, number>;
  /** Every finding; `classes` groups them. */
  findings: FuzzFinding[];
  /** `status method path kind` -> how many times. */
  classes: Record<string, number>;
}

/**
 * No cookie session (or other string value) a fuzz run leaves in Redis may be
 * larger than this: the examples refuse a huge user id before writing it,
 * and the middleware caps a stored cookie session. (The fuzz sends user ids
 * of up to 1.5 MB; a lower cap passes too.)
 */
export const MAX_STORED_STRING_BYTES = 64 * 1024;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_BODY_READ = 2 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 15_000;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Planned {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The jar whose cookies go with it and which keeps the cookies it sets; undefined: no cookies. */
  jar?: Jar;
  /** Replace the jar's cookie header (tampering); the jar still learns from the answer. */
  cookieOverride?: string;
}

class Jar {
  readonly cookies = new Map<string, string>();
  constructor(readonly name: string) {}
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  learn(headers: IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => /^\s*expires=/i.test(attribute) && Date.parse(attribute.split('=')[1] ?? '') <= Date.now());
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** The marker every chat message of a jar carries, so a leak names whose message it was. */
const marker = (jar: Jar, n: number) => `zq${jar.name}x${n}qz`;
const MARKER = /zq(j\d+)x\d+qz/g;

function planner(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (below: number) => Math.floor(random() * below);
  const jars = Array.from({ length: 6 }, (_, i) => new Jar(`j${i}`));
  let counter = 0;

  const json = (): Record<string, string> => ({ 'content-type': 'application/json' });
  const big = (bytes: number) => 'x'.repeat(bytes);
  const oddStrings = (): string =>
    pick([
      '',
      ' ',
      '\u0000',
      '\u202e\u0007',
      '{}',
      '*',
      '../../etc/passwd',
      '%00',
      'ada\nSet-Cookie: x=1',
      '\ud800',
      '😀'.repeat(50),
      big(1_000),
      big(70_000),
      big(300_000),
      '{' + 'a'.repeat(10) + '}',
      'agent:{x}:meta',
    ]);
  const oddValues = (): unknown => pick([123, -1, 1e308, null, true, false, [], ['ada'], { userId: 'ada' }, oddStrings()]);

  const wellFormed = (jar: Jar): Planned => {
    const n = counter++;
    switch (int(5)) {
      case 0:
        return { kind: 'login', method: 'POST', path: '/login', jar, headers: json(), body: JSON.stringify({ userId: `user-${jar.name}` }) };
      case 1:
      case 2: {
        const body: Record<string, unknown> = { message: `hello ${marker(jar, n)} where is my order?` };
        if (random() < 0.3) body.messageId = `m${int(4)}`;
        return { kind: 'chat', method: 'POST', path: '/chat', jar, headers: json(), body: JSON.stringify(body) };
      }
      case 3:
        return { kind: 'state', method: 'GET', path: '/state', jar, headers: {} };
      default:
        return { kind: 'logout', method: 'POST', path: '/logout', jar, headers: {} };
    }
  };

  const hostile = (jar: Jar): Planned => {
    const withJar = random() < 0.6 ? jar : undefined;
    switch (int(14)) {
      case 0:
        return { kind: 'malformed JSON', method: 'POST', path: pick(['/login', '/chat']), jar: withJar, headers: json(), body: pick(['{"userId":', '{', '[', 'nul', '{"message": "a"', '\u0000', '{"a":1}}']) };
      case 1:
        return { kind: 'wrong type userId', method: 'POST', path: '/login', jar: withJar, headers: json(), body: JSON.stringify({ userId: oddValues() }) };
      case 2:
        return { kind: 'wrong type message', method: 'POST', path: '/chat', jar: withJar, headers: json(), body: JSON.stringify({ message: oddValues(), messageId: random() < 0.5 ? oddValues() : undefined }) };
      case 3:
        return { kind: 'huge user id', method: 'POST', path: '/login', jar: withJar, headers: json(), body: JSON.stringify({ userId: big(pick([10_000, 90_000, 200_000, 1_500_000])) }) };
      case 4:
        return { kind: 'odd user id', method: 'POST', path: '/login', jar: withJar, headers: json(), body: JSON.stringify({ userId: oddStrings() }) };
      case 5:
        return { kind: 'huge message', method: 'POST', path: '/chat', jar: withJar, headers: json(), body: JSON.stringify({ message: big(pick([50_000, 99_000, 150_000, 1_200_000])) }) };
      case 6:
        return { kind: 'odd idempotency key', method: 'POST', path: '/chat', jar: withJar, headers: { ...json(), 'idempotency-key': pick(['', ' ', '*', 'a'.repeat(500), '{x}', 'k1']) }, body: JSON.stringify({ message: `hi ${marker(jar, counter++)}` }) };
      case 7: {
        const body = JSON.stringify({ userId: 'ada' });
        return { kind: 'wrong content type', method: 'POST', path: pick(['/login', '/chat']), jar: withJar, headers: { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-7', 'application/json; charset=bogus']) }, body };
      }
      case 8:
        return { kind: 'wrong method', method: pick(['PUT', 'DELETE', 'PATCH', 'GET', 'OPTIONS', 'HEAD']), path: pick(['/login', '/chat', '/logout', '/state']), jar: withJar, headers: {} };
      case 9:
        return { kind: 'unknown path', method: pick(['GET', 'POST']), path: pick(['/', '/nope', '/login/', '/LOGIN', '/%', '/%E0%A4%A', '/..%2f..%2fetc%2fpasswd', `/${'a'.repeat(4000)}`, '/state?x=%', '/conversations', '/history?beforeSeq=-1', '/conversations/x/resume']), jar: withJar, headers: {} };
      case 10: {
        // A jar's own cookies, tampered with: a flipped character, a swapped signature, a truncated value.
        const real = jar.header();
        const tampered = real
          ? pick([real.replace(/[A-Za-z0-9](?=[^=]*$)/, (c) => (c === 'a' ? 'b' : 'a')), real.replace(/=([^;]*)/, '=$1x'), real.slice(0, Math.max(1, real.length - 5)), real + '; agent.sid=forged'])
          : pick(['agent.sid=forged', 'agent.sid=s%3Aabc.def', 'koa.sess=abc; koa.sess.sig=def']);
        return { kind: 'tampered cookie', method: pick(['GET', 'POST']), path: pick(['/state', '/chat', '/logout', '/login']), jar, cookieOverride: tampered, headers: json(), body: JSON.stringify({ message: 'x', userId: 'eve' }) };
      }
      case 11:
        return { kind: 'oversized cookie', method: 'GET', path: '/state', jar, cookieOverride: `agent.sid=${big(pick([4_000, 12_000, 70_000]))}`, headers: {} };
      case 12:
        return { kind: 'odd headers', method: 'POST', path: pick(['/login', '/chat']), jar: withJar, headers: { ...json(), 'x-forwarded-proto': pick(['https', 'gopher', 'https, http']), 'x-forwarded-for': pick(['1.2.3.4', 'garbage', '']), 'content-encoding': pick(['gzip', 'identity', 'br']) }, body: JSON.stringify({ userId: 'ada', message: 'hi' }) };
      default:
        return { kind: 'deep JSON', method: 'POST', path: pick(['/login', '/chat']), jar: withJar, headers: json(), body: '['.repeat(5_000) + ']'.repeat(5_000) };
    }
  };

  return {
    jars,
    next(): Planned {
      const jar = pick(jars);
      return random() < 0.45 ? wellFormed(jar) : hostile(jar);
    },
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(base: URL, agent: Agent, planned: Planned): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...planned.headers };
    const cookie = planned.cookieOverride ?? planned.jar?.header();
    if (cookie) headers.cookie = cookie;
    if (planned.body !== undefined) headers['content-length'] = Buffer.byteLength(planned.body);
    const req = httpRequest(
      { host: base.hostname, port: base.port, method: planned.method, path: planned.path, headers, agent, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_READ) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within the request timeout')));
    req.on('error', reject);
    if (planned.body !== undefined) req.write(planned.body);
    req.end();
  });
}

const STACK = /\n\s+at [\w.<>[\]]+ \(|\bat (?:async )?[\w.]+ \((?:file:|\/)|Error: .*\n\s+at /;
const ABSOLUTE_PATH = new RegExp(`${escape(ROOT)}|file:///|/node_modules/|/home/|/work/|/usr/lib/node|node:internal`);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What is wrong with one answer ([] if nothing). */
function inspect(planned: Planned, answer: Answer): Array<Omit<FuzzFinding, 'method' | 'path'>> {
  const found: Array<Omit<FuzzFinding, 'method' | 'path'>> = [];
  const { status, body } = answer;
  if (status === 500) found.push({ kind: `${planned.kind}: 500`, status, detail: body.slice(0, 200) });
  else if (status >= 500 && !(status === 503 && answer.headers['retry-after'])) found.push({ kind: `${planned.kind}: ${status}`, status, detail: body.slice(0, 200) });
  else if (status === 503) found.push({ kind: `${planned.kind}: 503 against a healthy Redis`, status, detail: body.slice(0, 200) });
  if (STACK.test(body)) found.push({ kind: `${planned.kind}: stack trace in the body`, status, detail: body.slice(0, 300) });
  if (ABSOLUTE_PATH.test(body)) found.push({ kind: `${planned.kind}: absolute path in the body`, status, detail: (ABSOLUTE_PATH.exec(body)?.[0] ?? '').slice(0, 100) });
  for (const match of body.matchAll(MARKER)) {
    const owner = match[1];
    // A tampered cookie may still carry the jar's own valid one (the first of two wins): its own messages are no leak.
    const own = planned.jar?.name === owner;
    if (!own || status >= 400) {
      found.push({ kind: `${planned.kind}: a stored message in the body (${own ? 'in an error' : "another jar's"})`, status, detail: match[0] });
      break;
    }
  }
  return found;
}

/** Runs the fuzz against one server and reports what it found. */
export async function fuzzServer(options: FuzzOptions): Promise<FuzzReport> {
  const base = new URL(options.baseUrl);
  const random = seededRandom(options.seed);
  const plan = planner(random);
  // Planned up front, from one sequence, so the seed alone decides what is sent.
  const queue = Array.from({ length: options.requests }, () => plan.next());
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
  const report: FuzzReport = { requests: 0, statuses: {}, findings: [], classes: {} };
  const record = (finding: FuzzFinding) => {
    report.findings.push(finding);
    const name = `${finding.status} ${finding.method} ${finding.path.slice(0, 40)} ${finding.kind}`;
    report.classes[name] = (report.classes[name] ?? 0) + 1;
  };

  const lane = async () => {
    for (let planned = queue.shift(); planned; planned = queue.shift()) {
      report.requests++;
      let answer: Answer;
      try {
        answer = await send(base, agent, planned);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // A server may close the connection on a request it refuses outright (headers too large): not a defect.
        if (/socket hang up|ECONNRESET/.test(message) && planned.kind === 'oversized cookie') continue;
        record({ kind: `${planned.kind}: no answer`, status: 'no answer', method: planned.method, path: planned.path, detail: message.slice(0, 200) });
        continue;
      }
      report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
      planned.jar?.learn(answer.headers);
      for (const finding of inspect(planned, answer)) record({ ...finding, method: planned.method, path: planned.path });
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, lane));
  } finally {
    agent.destroy();
  }
  return report;
}

/** A report as lines for a person: the statuses, then each class of finding once with its count. */
export function describeReport(name: string, report: FuzzReport): string {
  const lines = [`${name}: ${report.requests} requests, statuses ${JSON.stringify(report.statuses)}, ${report.findings.length} findings`];
  for (const [name, count] of Object.entries(report.classes).sort((a, b) => b[1] - a[1])) lines.push(`  ${count}x ${name}`);
  return lines.join('\n');
}
