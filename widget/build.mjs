// Builds dist/: the loader (widget.js, a stable URL) and the frame app with content-hashed
// names, plus manifest.json for the server. Prints gzipped sizes and fails over budget.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
// Budgets in gzipped bytes (issue 5); tests/test_widget_build.py checks them too.
const BUDGET = { loader: 4 * 1024, frame: 40 * 1024 };
const common = { bundle: true, minify: true, target: ["es2020"], legalComments: "none", logLevel: "warning" };

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

await build({
  ...common,
  entryPoints: [join(here, "src/loader.js")],
  outfile: join(dist, "widget.js"),
  format: "iife",
});
// The visitors' push service worker: sites copy it to their own origin (docs/NOTIFICATIONS.md).
await build({
  ...common,
  entryPoints: [join(here, "src/sw.js")],
  outfile: join(dist, "sw.js"),
  format: "iife",
});
const frame = await build({
  ...common,
  entryPoints: { frame: join(here, "src/frame.js"), "frame-style": join(here, "src/frame.css") },
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  format: "iife",
  metafile: true,
});

const outputs = Object.keys(frame.metafile.outputs).map((p) => basename(p));
const pick = (prefix, ext) => outputs.find((n) => n.startsWith(prefix + "-") && n.endsWith(ext));
const loader = readFileSync(join(dist, "widget.js"));
const manifest = {
  loader: "widget.js",
  loader_hash: createHash("sha256").update(loader).digest("hex").slice(0, 20),
  frame_js: pick("frame", ".js"),
  frame_css: pick("frame-style", ".css"),
  service_worker: "sw.js",
  assets: outputs,
  gzip_bytes: {},
};
const gz = (path) => gzipSync(readFileSync(path), { level: 9 }).length;
manifest.gzip_bytes.loader = gz(join(dist, "widget.js"));
manifest.gzip_bytes.frame =
  gz(join(dist, "assets", manifest.frame_js)) + gz(join(dist, "assets", manifest.frame_css));
writeFileSync(join(dist, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

const kb = (n) => (n / 1024).toFixed(1) + " KB";
console.log(`widget: loader ${kb(manifest.gzip_bytes.loader)} gzipped (budget ${kb(BUDGET.loader)}), ` +
  `frame app ${kb(manifest.gzip_bytes.frame)} gzipped with Socket.IO (budget ${kb(BUDGET.frame)})`);
const over = Object.keys(BUDGET).filter((k) => manifest.gzip_bytes[k] > BUDGET[k]);
if (over.length) {
  console.error(`widget: over the size budget: ${over.join(", ")}`);
  process.exit(1);
}
