/**
 * `npm run build:ui`: bundles src/ui/client/ into src/ui/assets/ (committed; see scripts/ui-bundle.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { assetsDir, bundleUi } from "./ui-bundle.js";

const built = await bundleUi();
fs.mkdirSync(assetsDir, { recursive: true });
for (const [name, bytes] of Object.entries(built)) {
  fs.writeFileSync(path.join(assetsDir, name), bytes);
  const gz = gzipSync(bytes, { level: 9 }).byteLength;
  process.stdout.write(
    `${path.relative(process.cwd(), path.join(assetsDir, name))}: ${bytes.byteLength} bytes, ${gz} gzipped\n`,
  );
}
