// Headless Debian Chromium through playwright-core (never a browser download), and a small
// static HTTP server on 127.0.0.1 for the pages.
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".png": "image/png" };

/** Serves `root` on 127.0.0.1 (a free port); `.url(path)`, `.close()`. */
export async function serveStatic(root) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(root, path === "/" ? "index.html" : path);
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream", "cache-control": "no-store" });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: (p = "/") => `http://127.0.0.1:${port}${p}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** A fresh headless Chromium (own profile dir, removed on close); `.context`, `.close()`. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "steadysock-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    env: { ...process.env, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
    viewport: { width: 900, height: 640 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * `root` served, a fresh Chromium, and one page at `path` once `ready` (a function run in
 * the page) is true: `{ http, browser, page, pageErrors, close() }`, `pageErrors` the
 * messages of the page's uncaught errors.
 */
export async function openPage(root, path, ready) {
  const http = await serveStatic(root);
  const browser = await launch();
  const page = await browser.context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(http.url(path));
  await page.waitForFunction(ready);
  return {
    http,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close();
      await http.close();
    },
  };
}
