import { request, type IncomingHttpHeaders } from 'node:http';

/**
 * A server-sent events client over a real socket (supertest buffers whole
 * responses, so it cannot follow a stream): parses the stream as a browser's
 * EventSource does, keeps every event and comment, and can wait for one.
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  /** Date.now() when the event was parsed (for latency measurements). */
  receivedAt: number;
}

export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body, for a response that is not a stream (a 403, a 404). */
  body(): Promise<string>;
  readonly events: SseEvent[];
  readonly comments: string[];
  /** The `retry:` value, once seen. */
  readonly retry: number | undefined;
  /** Waits for an event (from the start of the stream) matching `match`; fails after `timeoutMs`. */
  next(match: (event: SseEvent) => boolean, what: string, timeoutMs?: number): Promise<SseEvent>;
  /** Waits until `count` comments have arrived. */
  comment(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the response or the socket closes. */
  readonly ended: Promise<void>;
  /** Drops the connection, as a closed browser tab does. */
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } });
    req.once('error', reject);
    req.once('response', (res) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let retry: number | undefined;
      let buffer = '';
      let raw = '';
      let waiters: Array<() => void> = [];
      const wake = () => {
        const current = waiters;
        waiters = [];
        for (const waiter of current) waiter();
      };
      let endedResolve!: () => void;
      const ended = new Promise<void>((done) => (endedResolve = done));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          let sawField = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'retry') retry = Number(value);
            else if (field === 'id') (id = value), (sawField = true);
            else if (field === 'event') (event = value), (sawField = true);
            else if (field === 'data') data.push(value), (sawField = true);
          }
          if (sawField) events.push({ id, event, data: data.join('\n'), receivedAt: Date.now() });
        }
        wake();
      });
      let done = false;
      const finish = () => {
        done = true;
        endedResolve();
        wake();
      };
      res.once('end', finish);
      res.once('close', finish);
      res.once('error', finish);

      const waitFor = async (check: () => boolean, what: string, timeoutMs: number): Promise<void> => {
        const deadline = Date.now() + timeoutMs;
        while (!check()) {
          if (done) throw new Error(`the stream ended before ${what}; got ${JSON.stringify(events)}`);
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(events)}`);
          await new Promise<void>((wakeUp) => {
            const timer = setTimeout(wakeUp, left);
            waiters.push(() => {
              clearTimeout(timer);
              wakeUp();
            });
          });
        }
      };

      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: async () => {
          await ended;
          return raw;
        },
        events,
        comments,
        get retry() {
          return retry;
        },
        async next(match, what, timeoutMs = 10_000) {
          let found: SseEvent | undefined;
          await waitFor(() => (found = events.find(match)) !== undefined, what, timeoutMs);
          return found!;
        },
        async comment(count, timeoutMs = 10_000) {
          await waitFor(() => comments.length >= count, `${count} comments`, timeoutMs);
        },
        ended,
        close() {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.end();
  });
}
