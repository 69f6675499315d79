import { readFileSync } from 'node:fs';

/**
 * The demo page (examples/shared/web/), served by both example servers at
 * GET /: plain HTML, CSS and JavaScript read once at start-up, no build
 * step and nothing from a CDN. It talks to the same routes as curl does,
 * plus GET /events for live updates.
 */
export interface WebAsset {
  status: 200;
  headers: Record<string, string>;
  body: Buffer;
}

const FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

const HEADERS = {
  // The page loads only its own script and style, and talks only to this server.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Small files, read each time the page loads: an edited page shows at once.
  'Cache-Control': 'no-cache',
};

/** Loads the page's files; the function it returns answers GET / and the page's assets, undefined for any other request. */
export function webPage(): (method: string, path: string) => WebAsset | undefined {
  const assets = new Map<string, WebAsset>();
  for (const [path, [file, type]] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`./web/${file}`, import.meta.url));
    assets.set(path, { status: 200, headers: { ...HEADERS, 'Content-Type': type }, body });
  }
  return (method, path) => (method === 'GET' || method === 'HEAD' ? assets.get(path) : undefined);
}
