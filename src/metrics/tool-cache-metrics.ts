import type { Registry } from 'prom-client';
import type { ToolCacheStats, ToolCacheToolStats } from '../tool-cache/types.js';
import { mirroredCounter } from './mirrored-counter.js';

/** What the metrics need of a tool cache (`createToolCache()`). */
export interface MetricsToolCache {
  stats(): Promise<ToolCacheStats>;
}

/**
 * The tool cache's figures as Prometheus counters, labelled by tool name
 * (the app registers a fixed set of tools, so the series are bounded). The
 * cache counts in Redis, for every process that uses it, so these are the
 * totals of all of them, read by one `stats()` per `read()` interval: every
 * process that exports them reports the same figures (use `max`, not `sum`,
 * across instances in queries).
 */
export function registerToolCacheMetrics(
  add: <M extends object>(metric: M) => M,
  registers: Registry[],
  read: () => Promise<ToolCacheStats | undefined>,
): void {
  const perTool = (name: string, help: string, figure: (tool: ToolCacheToolStats) => number) =>
    add(
      mirroredCounter(registers, { name, help, labelNames: ['tool'] }, read, (stats) =>
        Object.entries(stats.tools).map(([tool, figures]): [Record<string, string>, number] => [{ tool }, figure(figures)]),
      ),
    );
  perTool('agent_session_tool_cache_hits_total', 'Tool calls answered from the tool cache (exact and similar), by tool; counted in Redis for every process.', (t) => t.hits);
  perTool('agent_session_tool_cache_misses_total', 'Tool calls that ran the tool, by tool.', (t) => t.misses);
  perTool('agent_session_tool_cache_similarity_hits_total', 'The part of the hits answered by similarity, by tool.', (t) => t.similarityHits);
  perTool('agent_session_tool_cache_audits_total', 'Audits that re-ran the tool after a hit and scored the cached result, by tool.', (t) => t.audits);
  perTool('agent_session_tool_cache_audit_errors_total', 'Audits whose tool run or comparison failed, by tool.', (t) => t.auditErrors);
  perTool('agent_session_tool_cache_audits_skipped_total', 'Hits sampled for an audit while auditConcurrency audits were running, by tool.', (t) => t.auditsSkipped);
  perTool('agent_session_tool_cache_replaced_after_audit_total', 'Entries replaced by a fresh result after an audit found drift, by tool.', (t) => t.replacedAfterAudit);
  perTool('agent_session_tool_cache_time_saved_seconds_total', 'Measured run time of the results served from the cache, by tool.', (t) => t.timeSavedMs / 1000);
  perTool('agent_session_tool_cache_audit_overlap_sum', 'Sum of the audits\' overlap scores, by tool (with audits_total: the mean overlap).', (t) => t.auditOverlap.sum);
  add(
    mirroredCounter(
      registers,
      { name: 'agent_session_tool_cache_audit_overlap_total', help: 'Audits by overlap score, cumulative: audits whose score was at most `le`, by tool.', labelNames: ['tool', 'le'] },
      read,
      (stats) =>
        Object.entries(stats.tools).flatMap(([tool, figures]) =>
          figures.auditOverlap.buckets.map((bucket): [Record<string, string>, number] => [{ tool, le: String(bucket.le) }, bucket.count]),
        ),
    ),
  );
}
