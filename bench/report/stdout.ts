import type { Results } from '../results.js';
import { coldTierText } from './cold-tier.js';
import { appendsTable, comparisonTable, growthTable, renderText, targetsTable } from './tables.js';

/** The summary printed at the end of a run; results.md has everything. */
export function textReport(results: Results): string {
  const sections: string[] = [];
  for (const framework of ['express', 'koa'] as const) {
    if (!results.compare.some((cell) => cell.framework === framework)) continue;
    sections.push(`${framework === 'express' ? 'Express' : 'Koa'} (medians of ${results.meta.rounds} round(s))\n${renderText(comparisonTable(results, framework))}`);
  }
  sections.push(`Appends on one session under concurrency\n${renderText(appendsTable(results))}`);
  if (results.growth.history.length > 0) sections.push(`History growth (Express)\n${renderText(growthTable(results.growth.history, 'history'))}`);
  if (results.growth.sessions.length > 0) sections.push(`Live sessions (Express)\n${renderText(growthTable(results.growth.sessions, 'sessions'))}`);
  sections.push(`Targets\n${renderText(targetsTable(results))}`);
  sections.push(...coldTierText(results.archive));
  for (const entry of results.skipped) sections.push(`Server ${entry.server} not run: ${entry.reason}`);
  return sections.join('\n\n');
}
