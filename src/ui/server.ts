/**
 * Serves the web UI: `GET /` (the page, for browsers) and `GET /_ui/{app.js,app.css}` (the bundle
 * built by `npm run build:ui` and committed in src/ui/assets/, so a user never runs a front-end
 * build). The assets are read once, gzipped once, and named in the page with their content hash,
 * so they can be cached for a year; the page itself is revalidated on every load.
 *
 * `/_ui/` cannot clash with the lake: `_` is not allowed in an S3 bucket name. `GET /` is the
 * page only for requests that accept HTML (a browser); curl and unsigned S3 tools keep getting
 * the S3 ListBuckets answer there (docs/api.md, "S3").
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { Context } from "hono";
import { Hono } from "hono";

export const uiAssetsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "assets");

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  etag: string;
}

function loadAsset(file: string, type: string): Asset {
  const body = fs.readFileSync(path.join(uiAssetsDir, file));
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return { body, gzipped: gzipSync(body, { level: 9 }), type, etag: `"${hash}"` };
}

function pageHtml(js: Asset, css: Asset): string {
  const version = (asset: Asset) => asset.etag.slice(1, -1);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Hourglass</title>
<link rel="stylesheet" href="/_ui/app.css?v=${version(css)}">
</head>
<body>
<div id="app"><noscript>The Hourglass UI needs JavaScript; the REST API is at /api/v1 (docs/api.md).</noscript></div>
<script type="module" src="/_ui/app.js?v=${version(js)}"></script>
</body>
</html>
`;
}

function send(c: Context, asset: Asset, cacheControl: string): Response {
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "cache-control": cacheControl,
    etag: asset.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
  };
  if (c.req.header("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
  const body = gzip ? asset.gzipped : asset.body;
  if (gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = String(body.byteLength);
  return new Response(c.req.method === "HEAD" ? null : new Uint8Array(body), { status: 200, headers });
}

/** The UI's routes, to mount at `/`. */
export function uiRoutes(): Hono {
  const js = loadAsset("app.js", "text/javascript; charset=utf-8");
  const css = loadAsset("app.css", "text/css; charset=utf-8");
  const html = Buffer.from(pageHtml(js, css));
  const page: Asset = {
    body: html,
    gzipped: gzipSync(html),
    type: "text/html; charset=utf-8",
    etag: `"${createHash("sha256").update(html).digest("hex").slice(0, 16)}"`,
  };
  const app = new Hono();
  const immutable = "public, max-age=31536000, immutable";
  app.on(["GET", "HEAD"], "/", async (c, next) => {
    if (!(c.req.header("accept") ?? "").includes("text/html")) return next();
    return send(c, page, "no-cache");
  });
  app.on(["GET", "HEAD"], "/_ui/app.js", (c) => send(c, js, immutable));
  app.on(["GET", "HEAD"], "/_ui/app.css", (c) => send(c, css, immutable));
  return app;
}
