/**
 * agent-session/metrics: Prometheus metrics of agent-session through
 * prom-client. Needs the optional peer dependency `prom-client` (15);
 * apps that do not import this entry point never load it, and the library
 * measures nothing while no metrics are registered.
 */
export { agentMetrics } from './agent-metrics.js';
export type { AgentMetrics, AgentMetricsOptions, MetricsArchiver, MetricsObserverWorker, RequestOutcome } from './agent-metrics.js';
export type { MetricsToolCache } from './tool-cache-metrics.js';
