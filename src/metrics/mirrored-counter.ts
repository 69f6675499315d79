import { Counter, type Registry } from 'prom-client';

/**
 * A Prometheus counter whose values are counted elsewhere (Redis's INFO
 * counters, the tool cache's figures in Redis): each scrape reads them and
 * reports them as they are. When the read fails the series are left out of
 * that scrape (absent, not zero), as every sampled figure here is.
 */
export function mirroredCounter<T>(
  registers: Registry[],
  metric: { name: string; help: string; labelNames?: string[] },
  read: () => Promise<T | undefined>,
  values: (read: T) => Iterable<[labels: Record<string, string>, value: number]>,
): Counter {
  return new Counter({
    ...metric,
    labelNames: metric.labelNames ?? [],
    registers,
    async collect() {
      const figures = await read();
      this.reset();
      if (figures === undefined) {
        // reset() puts an unlabelled counter back at 0; a figure that could not be read is absent instead.
        if (metric.labelNames === undefined) this.remove();
        return;
      }
      for (const [labels, value] of values(figures)) this.inc(labels, value);
    },
  });
}
