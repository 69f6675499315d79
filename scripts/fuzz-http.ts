/**
 * The HTTP fuzz, longer than the test's: a few thousand seeded requests
 * against each example server, each on a private redis-server (redis-server
 * must be on PATH; the machine's own Redis is not touched).
 *
 *   npm run fuzz                       # 3000 requests per server, seed 20261203
 *   npm run fuzz -- --requests 10000 --seed 7 --details --server koa
 *
 * Prints each class of finding once with its count (--details: with the
 * first answer's body, shortened, and the errors the server logged) and
 * exits 1 if there is any, if a key was written outside the examples'
 * prefix, or if a cookie session over 64 KB was left in Redis.
 */
import { parseArgs } from 'node:util';
import { describeReport, fuzzServer, MAX_STORED_STRING_BYTES } from '../test/fuzz/http-fuzz.js';
import { EXAMPLE_SERVERS, startExample } from '../test/fuzz/servers.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '20261203' },
    concurrency: { type: 'string', default: '8' },
    details: { type: 'boolean', default: false },
    server: { type: 'string' },
  },
});
const requests = Number(values.requests);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);

let failed = false;
for (const [name, file] of EXAMPLE_SERVERS.filter(([name]) => !values.server || name.toLowerCase() === values.server.toLowerCase())) {
  const server = await startExample(file);
  try {
    const report = await fuzzServer({ baseUrl: server.url, requests, seed, concurrency });
    console.log(describeReport(`${name} (seed ${seed})`, report));
    if (values.details) {
      const shown = new Set<string>();
      for (const finding of report.findings) {
        if (shown.has(finding.kind)) continue;
        shown.add(finding.kind);
        console.log(`  --- ${finding.kind} (${finding.status} ${finding.method} ${finding.path.slice(0, 40)}): ${JSON.stringify(finding.detail)}`);
      }
      // The errors the server logged, by class and the start of their message (numbers blurred), most frequent first.
      const logged = new Map<string, number>();
      for (const match of server.example.output().matchAll(/^\s*(\w*Error): (.*)$/gm)) {
        const line = `${match[1]}: ${(match[2] ?? '').replace(/\d+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 90)}`;
        logged.set(line, (logged.get(line) ?? 0) + 1);
      }
      for (const [line, count] of [...logged].sort((a, b) => b[1] - a[1])) console.log(`  --- logged ${count}x ${line}`);
    }
    const largest = await server.largestString();
    if (largest) console.log(`  largest string value left in Redis: ${largest.bytes} bytes (${largest.key.replace(/:[^:]{8,}$/, ':…')})`);
    const outside = await server.keysOutsidePrefix();
    if (outside.length > 0) console.log(`  ${outside.length} keys outside the prefix, e.g. ${JSON.stringify(outside.slice(0, 5))}`);
    const oversized = (largest?.bytes ?? 0) > MAX_STORED_STRING_BYTES;
    if (oversized) console.log(`  a stored string value is over ${MAX_STORED_STRING_BYTES} bytes`);
    failed ||= report.findings.length > 0 || outside.length > 0 || oversized;
  } finally {
    await server.close();
  }
}
process.exit(failed ? 1 : 0);
