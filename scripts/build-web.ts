/**
 * Builds the web page (web/) into a folder the API serves (api/routes/web.ts): the page's TypeScript bundled
 * and minified by esbuild into app.js, its CSS into app.css, and index.html. No CDN and nothing fetched at
 * run time: what the page needs is installed by npm with the rest. `npm start`, the tests and the image build
 * it; `npm run web` builds it alone and prints the sizes (gzipped too, for the bench report).
 *   npx tsx scripts/build-web.ts [out-dir]
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = resolve(__dirname, '..');
/** Where the API looks for the page by default (api/routes/web.ts). */
export const WEB_DIST = join(ROOT, 'web', 'dist');

export interface WebBuild {
  dir: string;
  /** Bytes of each file, and gzipped. */
  sizes: Record<string, { bytes: number; gzipped: number }>;
}

export async function buildWebPage(outDir = WEB_DIST): Promise<WebBuild> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(ROOT, 'web', 'src', 'main.ts') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    outdir: outDir,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'error',
  });
  await build({ entryPoints: { app: join(ROOT, 'web', 'styles.css') }, bundle: true, minify: true, outdir: outDir, logLevel: 'error' });
  for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(ROOT, 'web', file), join(outDir, file));
  const sizes: WebBuild['sizes'] = {};
  for (const file of ['index.html', 'app.js', 'app.css']) {
    const path = join(outDir, file);
    sizes[file] = { bytes: statSync(path).size, gzipped: gzipSync(readFileSync(path)).length };
  }
  return { dir: outDir, sizes };
}

if (require.main === module) {
  const out = process.argv[2] ? resolve(process.argv[2]) : WEB_DIST;
  buildWebPage(out)
    .then(({ dir, sizes }) => {
      console.log(`web page built into ${dir}`);
      for (const [file, size] of Object.entries(sizes)) console.log(`  ${file.padEnd(10)} ${size.bytes} bytes, ${size.gzipped} gzipped`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
