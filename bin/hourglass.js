#!/usr/bin/env node
// Hourglass's command line. It runs the compiled JavaScript in dist/ (`npm ci` and `npm run build`
// make it), which starts in a fraction of the time tsx takes to compile the TypeScript sources at
// run time. It runs the sources in src/ through tsx instead, saying why in one stderr line, when
// dist/ is missing (a checkout without `npm ci`) or older than src/ (sources edited since the last
// build: running the old build would run other code than the one on disk), and silently when
// HOURGLASS_FROM_SOURCE=1 asks for it (the server's own `hourglass` for its tasks does, when the
// server itself runs from the sources: see src/runtime/cli-shim.ts).
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

/** Why to run the sources (a message, or "" when asked to), or null to run dist/. */
function reasonToRunSources() {
  if (process.env.HOURGLASS_FROM_SOURCE === "1") return "";
  let builtMs;
  try {
    builtMs = statSync(`${root}dist/.build-stamp`).mtimeMs;
  } catch {
    return "dist/ is not built (run `npm ci` or `npm run build`): running the TypeScript sources through tsx, which starts slower";
  }
  const newer = newestSourceNewerThan(builtMs);
  if (newer === null) return null;
  return `${newer} changed after the last build: running the TypeScript sources through tsx, which starts slower (\`npm run build\` rebuilds dist/)`;
}

/**
 * The first file or folder under src/ modified after `builtMs`, or null. A stat per entry (about
 * 270 of them): 2-4 ms, measured by bench/cli-start.ts. A folder's time changes when a file is
 * added, removed or renamed in it.
 */
function newestSourceNewerThan(builtMs) {
  let entries;
  try {
    entries = readdirSync(`${root}src`, { recursive: true });
  } catch {
    return null; // an installed package without its sources: dist/ is all there is
  }
  for (const entry of ["", ...entries]) {
    const relative = `src/${entry}`;
    if (statSync(`${root}${relative}`).mtimeMs > builtMs) return relative;
  }
  return null;
}

const reason = reasonToRunSources();
let main;
if (reason === null) {
  ({ main } = await import("../dist/cli/main.js"));
} else {
  if (reason !== "") process.stderr.write(`hourglass: ${reason}\n`);
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv);
