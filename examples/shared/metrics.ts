import { createServer } from 'node:http';
import { register } from 'prom-client';
import { agentMetrics, type AgentMetricsOptions } from 'agent-session/metrics';

/**
 * The examples' Prometheus metrics: agent-session's, on prom-client's
 * global registry. METRICS_SAMPLE_MS (default 10000) is how often the Redis
 * server figures (INFO) and the archive backlog are read at most.
 */
export function startMetrics(options: AgentMetricsOptions): void {
  const sampleEveryMs = process.env.METRICS_SAMPLE_MS === undefined ? undefined : Number(process.env.METRICS_SAMPLE_MS);
  agentMetrics({ sampleEveryMs, ...options });
}

/** The text a scrape of GET /metrics gets. */
export async function metricsAnswer(): Promise<{ contentType: string; body: string }> {
  return { contentType: register.contentType, body: await register.metrics() };
}

/**
 * A worker's metrics endpoint: GET /metrics on METRICS_PORT (default
 * `defaultPort`; "off" serves none). A port already taken is reported and
 * the worker goes on without it.
 */
export function serveMetrics(name: string, defaultPort: number): void {
  const setting = process.env.METRICS_PORT ?? String(defaultPort);
  if (setting === 'off') return;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    metricsAnswer().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        console.error(`${name}: metrics failed: ${error instanceof Error ? error.message : String(error)}`);
        res.writeHead(500).end();
      },
    );
  });
  server.on('error', (error) => console.warn(`${name}: metrics not served (${error.message}); set METRICS_PORT to a free port, or "off"`));
  server.listen(Number(setting), () => {
    const address = server.address();
    console.log(`${name}: metrics on http://localhost:${typeof address === 'object' && address ? address.port : setting}/metrics`);
  });
  server.unref();
}
