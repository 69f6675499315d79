import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { APPEND_BODY, ROUTES, type Scenario } from '../contract.js';

/**
 * Drives one server with autocannon: fixed connections, on one or many
 * logged-in sessions (cookies), for a duration (warm-up, rate estimate) or
 * a fixed number of requests (measurements: every request sent is answered
 * before the run ends, so request counts, Redis command counts and stored
 * turns can be compared exactly).
 */
export interface LoadOptions {
  url: string;
  scenario: Scenario;
  /** Cookie headers of logged-in sessions; requests go round-robin over them. */
  cookies: string[];
  /**
   * Build each request anew with the next cookie even for a single session,
   * so that runs over 1, 100 and 10,000 sessions cost the client the same.
   */
  rotate?: boolean;
  connections: number;
  /** Exactly this many requests... */
  amount?: number;
  /** ...or for this many seconds. */
  duration?: number;
}

export interface LoadResult {
  /** Responses per second over the time from the first request to the last response. */
  rps: number;
  p50: number;
  p99: number;
  /** Responses received. */
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

function requestSpec(scenario: Scenario, cookies: string[], rotate: boolean): autocannon.RequestSpec {
  const route = ROUTES[scenario];
  const headers: Record<string, string> = { cookie: cookies[0] ?? '' };
  if (route.method === 'POST') headers['content-type'] = 'application/json';
  const spec: autocannon.RequestSpec = { method: route.method, path: route.path, headers };
  if (route.method === 'POST') spec.body = APPEND_BODY;
  if (rotate || cookies.length > 1) {
    let next = 0;
    spec.setupRequest = (request) => {
      const cookie = cookies[next++ % cookies.length] ?? '';
      return { ...request, headers: { ...headers, cookie } };
    };
  }
  return spec;
}

export function drive(options: LoadOptions): Promise<LoadResult> {
  const cookies = options.cookies.length > 0 ? options.cookies : [''];
  const spec = requestSpec(options.scenario, cookies, options.rotate ?? false);
  return new Promise((resolve, reject) => {
    let completed = 0;
    let lastResponse = 0;
    const started = performance.now();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        timeout: 10,
        requests: [spec],
        ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration ?? 1 }),
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = Math.max((lastResponse || performance.now()) - started, 1) / 1000;
        resolve({
          rps: completed / seconds,
          p50: result.latency.p50,
          p99: result.latency.p99,
          completed,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          seconds,
        });
      },
    );
    instance.on('response', () => {
      completed++;
      lastResponse = performance.now();
    });
  });
}

/** One request, for the command profile: what a single user request costs. */
export async function requestOnce(url: string, scenario: Scenario, cookie: string): Promise<void> {
  const route = ROUTES[scenario];
  const post = route.method === 'POST';
  const response = await fetch(url + route.path, {
    method: route.method,
    headers: post ? { cookie, 'content-type': 'application/json' } : { cookie },
    ...(post ? { body: APPEND_BODY } : {}),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${route.method} ${url}${route.path} answered ${response.status}`);
}
