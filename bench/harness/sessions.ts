import { DEFAULT_HISTORY, ROUTES, type LoginBody, type ReadView } from '../contract.js';

/**
 * Logs users in through a server's own /login route (before any
 * measurement) and keeps the cookies it sets, and reads a session's turn
 * count back for the append correctness check.
 */

/** The Cookie header a browser would send back: every name=value the response set. */
export function cookieHeader(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';', 1)[0] ?? '')
    .filter((pair) => pair.length > 0)
    .join('; ');
}

/** How many times a login answered 503 is sent again before the run gives up. */
const LOGIN_RETRIES = 5;

export async function login(url: string, body: Partial<LoginBody> = {}): Promise<string> {
  const payload: LoginBody = { userId: body.userId ?? 'bench-user', turns: body.turns ?? DEFAULT_HISTORY };
  const send = () =>
    fetch(url + ROUTES.login.path, {
      method: ROUTES.login.method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
  let response = await send();
  // Seeding is not measured: on a machine busy enough that a login's appends outlast the fail-fast bound (503), log in again.
  for (let retry = 1; response.status === 503 && retry <= LOGIN_RETRIES; retry++) {
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 200 * retry));
    response = await send();
  }
  if (!response.ok) throw new Error(`login on ${url} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
  return cookieHeader(response);
}

/**
 * Logs in `count` distinct users (numbered from `first`), `parallel` at a
 * time, spread over `urls` (processes of one server sharing one Redis, so a
 * cookie from any of them is good on all); returns their cookies in order.
 */
export async function loginMany(urls: string[], count: number, turns: number, first = 0, parallel = 16): Promise<string[]> {
  const cookies = new Array<string>(count);
  let next = 0;
  const worker = async (lane: number) => {
    const url = urls[lane % urls.length]!;
    while (next < count) {
      const index = next++;
      cookies[index] = await login(url, { userId: `bench-user-${first + index}`, turns });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel * urls.length, count) }, (_, lane) => worker(lane)));
  return cookies;
}

/** The turn count the server's store reports for the session behind `cookie`. */
export async function turnCount(url: string, cookie: string): Promise<number> {
  const response = await fetch(url + ROUTES.read.path, { headers: { cookie } });
  if (!response.ok) throw new Error(`read on ${url} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as ReadView).turnCount;
}
