// Bundles the test pages with esbuild (platform browser: `steadysock` resolves through the
// package's `browser` export condition to the wasm build) into test/dist/.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
mkdirSync(dist, { recursive: true });
const pages = process.argv.slice(2);
for (const name of pages) {
  await build({
    entryPoints: [join(here, `${name}-page.mjs`)],
    outfile: join(dist, `${name}.js`),
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    logLevel: "warning",
  });
}
// The default browser entry fetches the wasm module from next to the glue's
// import.meta.url, which in an esbuild bundle is the bundle's: the file goes beside it
// (what an esbuild user does; Vite and webpack emit it by themselves).
copyFileSync(join(here, "../../bindings-node/wasm/steadysock_wasm_bg.wasm"), join(dist, "steadysock_wasm_bg.wasm"));
for (const html of readdirSync(here).filter((f) => f.endsWith(".html"))) copyFileSync(join(here, html), join(dist, html));
