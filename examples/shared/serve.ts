import { createServer, type RequestListener } from 'node:http';

/**
 * Listens on `port`, prints the URL, and on Ctrl-C or SIGTERM stops taking
 * requests and closes the Redis connection, so the process exits by itself.
 */
export function serve(name: string, handler: RequestListener, port: number, close: () => Promise<void>): void {
  const server = createServer(handler);
  server.listen(port, () => console.log(`agent-session ${name} example listening on http://localhost:${port}`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.close();
      server.closeAllConnections();
      void close();
    });
  }
}
