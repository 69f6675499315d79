import request, { type Response } from 'supertest';
import type { Server } from 'node:http';

/** What a TLS-terminating proxy adds: with trust proxy on, the app sees an https request. */
export const VIA_HTTPS_PROXY = { 'X-Forwarded-Proto': 'https' };

/**
 * A minimal cookie jar in front of supertest: keeps the cookies the app sets
 * (and drops the ones it clears), so tests can replay, age, forge or swap them.
 * By default it comes through an https proxy; pass `{}` for plain http.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly #target: Server | string;
  readonly #headers: Record<string, string>;

  /** `app`: a started test app, or the base URL of a server in another process. */
  constructor(app: { server: Server } | string, headers: Record<string, string> = VIA_HTTPS_PROXY) {
    this.#target = typeof app === 'string' ? app : app.server;
    this.#headers = headers;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send(request(this.#target).get(path), headers);
  }

  post(path: string, body: object = {}, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send(request(this.#target).post(path).send(body), headers);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** A copy with the same cookies, e.g. to replay an old cookie later. */
  clone(headers: Record<string, string> = this.#headers): Browser {
    const copy = new Browser(typeof this.#target === 'string' ? this.#target : { server: this.#target }, headers);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }

  async #send(test: request.Test, headers: Record<string, string>): Promise<Response> {
    for (const [name, value] of Object.entries({ ...this.#headers, ...headers })) test.set(name, value);
    if (this.cookies.size > 0) test.set('Cookie', this.cookieHeader());
    const response = await test;
    for (const line of setCookies(response)) {
      const { name, value, attributes } = parseSetCookie(line);
      const expires = attributes.get('expires');
      if (value === '' || (expires !== undefined && Date.parse(expires) <= Date.now())) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

export function setCookies(response: Response): string[] {
  const header = response.headers['set-cookie'] as string[] | string | undefined;
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

/** name, value and lower-cased attributes ("httponly" maps to ""). */
export function parseSetCookie(line: string): { name: string; value: string; attributes: Map<string, string> } {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf('=');
    const key = (at === -1 ? part : part.slice(0, at)).trim().toLowerCase();
    attributes.set(key, at === -1 ? '' : part.slice(at + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}
