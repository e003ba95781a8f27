/**
 * Bundles the browser code (src/ui/client/) into src/ui/assets/app.js and app.css with esbuild.
 * `npm run build:ui` writes them; test/ui/bundle.test.ts builds in memory and checks that the
 * committed files are the same bytes, so the served UI never lags behind its source.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "ui");
export const clientEntry = path.join(uiDir, "client", "main.tsx");
export const assetsDir = path.join(uiDir, "assets");

export interface BuiltUi {
  "app.js": Uint8Array;
  "app.css": Uint8Array;
}

export async function bundleUi(): Promise<BuiltUi> {
  const result = await build({
    entryPoints: [clientEntry],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: assetsDir,
    entryNames: "app",
    write: false,
    legalComments: "none",
    logLevel: "silent",
    // No timestamps or absolute paths in the output: the same source gives the same bytes.
    sourcemap: false,
    absWorkingDir: uiDir,
  });
  const byName = new Map(result.outputFiles.map((file) => [path.basename(file.path), file.contents]));
  const js = byName.get("app.js");
  const css = byName.get("app.css");
  if (js === undefined || css === undefined) {
    throw new Error(`the UI bundle lacks app.js or app.css (got ${[...byName.keys()].join(", ")})`);
  }
  return { "app.js": js, "app.css": css };
}
