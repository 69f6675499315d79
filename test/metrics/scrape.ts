import type { Registry } from 'prom-client';

/** One scrape, parsed from the Prometheus text format: `name{label="value",...}` to its value. */
export type Scrape = Map<string, number>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/;

export function parseMetrics(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line of the text format: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

export async function scrape(registry: Registry): Promise<Scrape> {
  return parseMetrics(await registry.metrics());
}

/** A series' value, 0 when absent. */
export function value(samples: Scrape, series: string): number {
  return samples.get(series) ?? 0;
}

/** The label values of every series, for the cardinality checks. */
export function labelValues(samples: Scrape): string[] {
  const values: string[] = [];
  for (const series of samples.keys()) {
    for (const match of series.matchAll(/="((?:[^"\\]|\\.)*)"/g)) values.push(match[1] ?? '');
  }
  return values;
}
