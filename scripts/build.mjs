#!/usr/bin/env node
// `npm run build` (also run by `prepare`, so `npm ci` builds, and by `npm test`): compiles src/ into
// dist/ with tsc (tsconfig.build.json; incremental, so a build with nothing changed is quick), then
// stamps dist/ so bin/hourglass.js can tell a build older than the sources. Plain JavaScript: it
// must run before anything is built.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = require.resolve("typescript/bin/tsc");
} catch {
  // `npm ci --omit=dev` installs no TypeScript: the CLI then runs the sources through tsx.
  console.error(
    "hourglass build: TypeScript is not installed (devDependencies omitted?); dist/ was not built",
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error("hourglass build: tsc failed (above); dist/ is not up to date");
  process.exit(result.status ?? 1);
}
// Files tsc does not emit: the web UI's committed bundle (src/ui/server.ts reads it beside itself).
rmSync(new URL("../dist/ui/assets", import.meta.url), { recursive: true, force: true });
cpSync(new URL("../src/ui/assets", import.meta.url), new URL("../dist/ui/assets", import.meta.url), {
  recursive: true,
});
// Written after a successful build only: its time is what "dist/ is as new as src/" compares with.
writeFileSync(new URL("../dist/.build-stamp", import.meta.url), `${new Date().toISOString()}\n`);
