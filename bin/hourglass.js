#!/usr/bin/env node
// Hourglass's command line. It runs the compiled JavaScript in dist/ (`npm ci` and `npm run build`
// make it), which starts several times faster than tsx compiling the TypeScript sources at run
// time. It runs the sources in src/ through tsx when dist/ is missing or older than src/ (saying so
// in one stderr line), and when HOURGLASS_FROM_SOURCE=1 asks for it (silently: the server's own
// `hourglass` for its tasks does, when the server itself runs the sources; src/runtime/cli-shim.ts).
import { fileURLToPath } from "node:url";
import { reasonToRunSources } from "./code-choice.js";

const reason = reasonToRunSources(fileURLToPath(new URL("../", import.meta.url)), process.env);
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
