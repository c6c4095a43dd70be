/**
 * The web page (web/, built by scripts/build-web.ts): `/` and its two assets, public like the API docs (the
 * page asks for a token and sends it with each call). A strict Content-Security-Policy: the page loads only
 * its own script and style and talks only to this origin.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';

const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.js.map': { file: 'app.js.map', type: 'application/json' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
} as const;

export const WEB_PATHS = Object.keys(ASSETS);

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Where the built page is by default: web/dist beside the sources (dist/web/dist in the image). */
export const DEFAULT_WEB_DIST = resolve(__dirname, '../../web/dist');

export function webRoutes(dir = DEFAULT_WEB_DIST) {
  const app = new Hono();
  // Read once, when first asked for: the build comes before the process (npm start, the image).
  const files = new Map<string, Buffer>();
  const read = (file: string) => {
    if (!files.has(file) && existsSync(join(dir, file))) files.set(file, readFileSync(join(dir, file)));
    return files.get(file);
  };
  for (const [path, asset] of Object.entries(ASSETS)) {
    app.get(path, (c) => {
      const body = read(asset.file);
      if (body === undefined) {
        return c.text('The web page is not built here: run `npm run web` (npm start and the image build it).', 503);
      }
      c.header('Content-Type', asset.type);
      // Small files that change with each build: revalidated every time (the API sits on the same origin).
      c.header('Cache-Control', 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      if (path === '/') {
        c.header('Content-Security-Policy', CSP);
        c.header('Referrer-Policy', 'no-referrer');
      }
      return c.body(new Uint8Array(body));
    });
  }
  return app;
}
