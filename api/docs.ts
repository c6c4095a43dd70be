/**
 * Interactive API docs at /docs: Swagger UI over /openapi.json, its assets served from the swagger-ui-dist
 * package (no CDN: offline machines and clusters get the same page).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>task-agent API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });</script>
</body>
</html>`;

export function docsRoutes(): Hono {
  const dist = dirname(require.resolve('swagger-ui-dist/package.json'));
  // Read once at start: a missing asset is a packaging error that should stop the process, not a 404 later.
  const files = Object.fromEntries(Object.keys(ASSETS).map((name) => [name, readFileSync(join(dist, name))]));
  return new Hono()
    .get('/docs', (c) => c.html(PAGE))
    .get('/docs/assets/:name', (c) => {
      const name = c.req.param('name');
      const file = files[name];
      if (file === undefined) return c.notFound();
      c.header('Content-Type', ASSETS[name]!);
      c.header('Cache-Control', 'public, max-age=86400');
      return c.body(file);
    });
}
