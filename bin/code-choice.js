// Which copy of Hourglass bin/hourglass.js runs: the compiled JavaScript in dist/, or the
// TypeScript sources in src/ through tsx. Plain JavaScript, as it runs before either is loaded.
import { readdirSync, statSync } from "node:fs";

/**
 * Why to run the sources, or null to run dist/. "" when HOURGLASS_FROM_SOURCE=1 asks for them
 * (nothing to say); else a line for stderr: dist/ is missing (a checkout without `npm ci`), or
 * older than src/ (sources edited since the last build, which would run other code than the one on
 * disk). `root` is the package folder, with a trailing slash.
 */
export function reasonToRunSources(root, env) {
  if (env.HOURGLASS_FROM_SOURCE === "1") return "";
  let builtMs;
  try {
    // scripts/build.mjs writes it after each successful build.
    builtMs = statSync(`${root}dist/.build-stamp`).mtimeMs;
  } catch {
    return "dist/ is not built (run `npm ci` or `npm run build`): running the TypeScript sources through tsx, which starts slower";
  }
  const newer = sourceNewerThan(root, builtMs);
  if (newer === null) return null;
  return `${newer} changed after the last build: running the TypeScript sources through tsx, which starts slower (\`npm run build\` rebuilds dist/)`;
}

/**
 * The first file or folder under src/ modified after `builtMs`, or null. A stat per entry (about
 * 270): a few milliseconds, measured by bench/cli-start.ts. A folder's time changes when a file is
 * added, removed or renamed in it, so deletions count too.
 */
export function sourceNewerThan(root, builtMs) {
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
