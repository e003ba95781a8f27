// Records every module a process imports, for tests that check what a command loads:
// `node --import ./test/support/trace-imports.mjs …` with HOURGLASS_TRACE_IMPORTS=<file> appends
// "<pid> <resolved URL>" a line to <file> (through NODE_OPTIONS it follows child processes too). Plain JavaScript: its hook runs on Node's loader thread, before
// any TypeScript loader. Packages that CommonJS code require()s are not seen (Node 20 does not pass
// require() through these hooks), but the package an ES module imports first is.
import { appendFileSync } from "node:fs";
import module from "node:module";
import { isMainThread } from "node:worker_threads";

const out = process.env.HOURGLASS_TRACE_IMPORTS;

/** The loader-thread hook: registered by the main thread below, with the file to write to. */
let traceFile = null;
export function initialize(data) {
  traceFile = data.file;
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (traceFile !== null) appendFileSync(traceFile, `${process.pid} ${resolved.url}\n`);
  return resolved;
}

// On the main thread (as --import) only: the loader thread imports this file again, for its hooks.
if (isMainThread && out !== undefined) {
  module.register(import.meta.url, { data: { file: out } });
}
