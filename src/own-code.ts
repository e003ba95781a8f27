/**
 * Which copy of Hourglass's own code this process runs: the TypeScript sources in src/ (through
 * tsx: the tests, `HOURGLASS_FROM_SOURCE=1`, a checkout without a build) or the compiled
 * JavaScript in dist/ (the CLI and the server after `npm ci`). The processes Hourglass starts for
 * its own code (workers, the DAG processor's parse process, the `hourglass` command of tasks) run
 * the same copy as the process that starts them: a server from dist/ starts them from dist/ without
 * tsx's start-up cost, and two copies never meet (DAG files get the copy of the process that loads
 * them: src/workflows/dag-import-hook.mjs).
 */

/** True when this module is the TypeScript source (`.ts`), false when it is dist/'s `.js`. */
export const runsFromSource = import.meta.url.endsWith(".ts");

/**
 * The entry module `name` (without extension) next to `base` (a module's import.meta.url), in this
 * copy: `./worker-entry.ts` from src/, `./worker-entry.js` from dist/.
 */
export function ownEntry(name: string, base: string): URL {
  return new URL(`${name}${runsFromSource ? ".ts" : ".js"}`, base);
}

/** Node options a child process running an ownEntry needs: tsx's loader for the sources, nothing for dist/. */
export function ownCodeExecArgv(): string[] {
  return runsFromSource ? ["--import", import.meta.resolve("tsx")] : [];
}
