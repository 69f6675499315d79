import type { RedisConnection } from 'agent-session';

/**
 * With BENCH_METRICS=1 (bench:metrics), the agent-session servers register
 * agent-session's Prometheus metrics and render them every 5 s, as a
 * scrape would (three times Prometheus's usual rate). Without it nothing
 * is loaded: prom-client is never imported.
 */
export async function metricsIfAsked(redis: RedisConnection): Promise<void> {
  if (process.env.BENCH_METRICS !== '1') return;
  const [{ agentMetrics }, { Registry }] = await Promise.all([import('agent-session/metrics'), import('prom-client')]);
  const register = new Registry();
  agentMetrics({ redis, register });
  setInterval(() => void register.metrics(), 5_000).unref();
}
