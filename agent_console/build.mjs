// Builds dist/: the console's script and stylesheet with content-hashed names, plus
// manifest.json naming them for the server (app/web/console.py). Fails over the size budget.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
// Gzipped bytes of script + stylesheet, Socket.IO client included.
const BUDGET = 80 * 1024;

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await build({
  entryPoints: { console: join(here, "src/main.ts"), "console-style": join(here, "src/console.css") },
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  target: ["es2020"],
  format: "iife",
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
});

// The service worker (web push) needs a stable URL: /console/sw.js.
await build({
  entryPoints: [join(here, "src/sw.ts")],
  outfile: join(dist, "sw.js"),
  bundle: true,
  minify: true,
  target: ["es2020"],
  format: "iife",
  legalComments: "none",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const pick = (prefix, ext) => outputs.find((n) => n.startsWith(prefix + "-") && n.endsWith(ext));
const manifest = {
  js: pick("console", ".js"),
  css: pick("console-style", ".css"),
  service_worker: "sw.js",
  assets: outputs,
  gzip_bytes: 0,
};
const gz = (name) => gzipSync(readFileSync(join(dist, "assets", name)), { level: 9 }).length;
manifest.gzip_bytes = gz(manifest.js) + gz(manifest.css);
writeFileSync(join(dist, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

console.log(`console: ${(manifest.gzip_bytes / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (manifest.gzip_bytes > BUDGET) {
  console.error("console: over the size budget");
  process.exit(1);
}
