// Build the dashboard bundle that the binary embeds (web/dist/).
//
//   node build.mjs            rebuild web/dist
//   node build.mjs --out DIR  build into DIR (the test run compares DIR
//                             with the committed web/dist byte for byte)
//
// src/app.js and its imports (uPlot from node_modules, pinned by
// package-lock.json) become one minified app.js and one app.css; the
// page and the licences of what is bundled are copied beside them.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--out');
const out = i > 0 ? process.argv[i + 1] : join(here, 'dist');

mkdirSync(out, { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/app.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  legalComments: 'none', // the licences go to LICENSES.txt
  charset: 'utf8',
  outdir: out,
  logLevel: 'warning',
});
copyFileSync(join(here, 'src/index.html'), join(out, 'index.html'));

const uplot = JSON.parse(readFileSync(join(here, 'node_modules/uplot/package.json'), 'utf8'));
writeFileSync(join(out, 'LICENSES.txt'),
  'The dashboard of carbonsched bundles the following software.\n\n' +
  `uPlot ${uplot.version} (https://github.com/leeoniya/uPlot)\n\n` +
  readFileSync(join(here, 'node_modules/uplot/LICENSE'), 'utf8'));
