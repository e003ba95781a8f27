/**
 * Module resolution hook for DAG files, registered once by loader.ts with module.register().
 * Plain JavaScript: it runs on Node's loader thread, before any TypeScript loader may exist there.
 *
 * 1. `import … from "hourglass"` resolves to Hourglass's own entry point, wherever the DAG file
 *    lives (a user's dags folder has no node_modules/hourglass).
 * 2. A module imported by the loader carries `?hourglass-dag=<load token>` on its parent URL.
 *    Local files it imports (and they import) get the same token, except Hourglass's own source
 *    and node_modules, so every load evaluates the DAG file and its local helpers (and reads its
 *    local JSON files) afresh, and
 *    they are read as ES modules even in a folder without a package.json of type "module" (tsx
 *    would otherwise compile them as CommonJS, whose require() does not pass through this hook).
 * 3. Each local file a marked module imports (JSON included) is reported on the loader's port as
 *    an edge { token, parent, child }, so the loader knows which files a DAG file depends on: its
 *    code version, and a worker's cache of loaded DAG files, cover them.
 */
import { statSync } from "node:fs";

const markParam = "hourglass-dag";
const localModule = /\.(?:[cm]?ts|tsx|[m]?js|jsx)$/;
let entryUrl = null;
/** Hourglass's own source folder: shared by all DAG files, never reloaded. */
let sourceDirUrl = null;
/** @type {import("node:worker_threads").MessagePort | null} */
let dependencyPort = null;

/** @param {{ entryUrl: string, sourceDirUrl: string, dependencyPort?: import("node:worker_threads").MessagePort }} data */
export function initialize(data) {
  entryUrl = data.entryUrl;
  sourceDirUrl = data.sourceDirUrl;
  dependencyPort = data.dependencyPort ?? null;
}

/**
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: object) => Promise<{ url: string, format?: string }>} next
 */
export async function resolve(specifier, context, next) {
  if (specifier === "hourglass" && entryUrl !== null) {
    return { url: entryUrl, format: "module", shortCircuit: true };
  }
  const mark = markOf(context.parentURL);
  if (mark === null || !isPathSpecifier(specifier)) return next(specifier, context);
  // Resolved here rather than by the next hook: a TypeScript loader further down the chain may
  // turn the URL into a CommonJS one, and the mark has to survive.
  const url = findFile(new URL(specifier, context.parentURL));
  if (url === null) return next(specifier, context);
  const shared =
    url.pathname.includes("/node_modules/") || (sourceDirUrl !== null && url.href.startsWith(sourceDirUrl));
  if (!shared) {
    dependencyPort?.postMessage({
      token: mark,
      parent: decodeURIComponent(new URL(context.parentURL).pathname),
      child: decodeURIComponent(url.pathname),
    });
  }
  const json = url.pathname.endsWith(".json");
  if (shared || !(json || localModule.test(url.pathname))) return next(specifier, context);
  url.search = "";
  url.searchParams.set(markParam, mark);
  const commonJs = /\.c[jt]s$/.test(url.pathname);
  return { url: url.href, format: json ? "json" : commonJs ? "commonjs" : "module", shortCircuit: true };
}

function markOf(parentUrl) {
  if (typeof parentUrl !== "string" || !parentUrl.startsWith("file:")) return null;
  return new URL(parentUrl).searchParams.get(markParam);
}

function isPathSpecifier(specifier) {
  return (
    specifier.startsWith("./") ||
    specifier.startsWith("../") ||
    specifier.startsWith("/") ||
    specifier.startsWith("file:")
  );
}

/** The file a relative specifier names, with TypeScript's ".js means .ts" rule, or null. */
function findFile(url) {
  const path = decodeURIComponent(url.pathname);
  const candidates = [path];
  if (/\.js$/.test(path)) candidates.push(path.replace(/\.js$/, ".ts"), path.replace(/\.js$/, ".tsx"));
  if (/\.mjs$/.test(path)) candidates.push(path.replace(/\.mjs$/, ".mts"));
  if (!/\.[A-Za-z0-9]+$/.test(path))
    candidates.push(`${path}.ts`, `${path}.js`, `${path}/index.ts`, `${path}/index.js`);
  for (const candidate of candidates) {
    if (isFile(candidate)) {
      const found = new URL(url.href);
      found.pathname = candidate;
      return found;
    }
  }
  return null;
}

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
