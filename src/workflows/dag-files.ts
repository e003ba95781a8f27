/**
 * Which files in a dags folder are DAG files, and a cheap fingerprint of the folder that tells the
 * watcher whether anything changed since the last load.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { notFound } from "../errors.js";

const dagFileExtensions = new Set([".ts", ".js", ".mjs"]);
/** Files a DAG file may import: a change to one of them reloads the folder. */
const moduleExtensions = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"]);

/** DAG files under `dir`, sorted: not in node_modules, not starting with "_" or ".", not .d.ts. */
export async function listDagFiles(dir: string): Promise<string[]> {
  const files = await walk(await checkDir(dir), (name) => {
    if (name.startsWith("_") || name.startsWith(".") || name.endsWith(".d.ts")) return false;
    return dagFileExtensions.has(path.extname(name));
  });
  return files.sort();
}

export async function checkDir(dir: string): Promise<string> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => null);
  if (info === null || !info.isDirectory())
    throw notFound(`DAG folder ${root} does not exist`, { dir: root });
  return root;
}

/** Files under `dir` that `keep` accepts; skips node_modules, dot folders and (unless told) "_" folders. */
async function walk(
  dir: string,
  keep: (name: string) => boolean,
  underscoreFolders = false,
): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      if (entry.name.startsWith("_") && !underscoreFolders) continue;
      found.push(...(await walk(full, keep, underscoreFolders)));
    } else if (entry.isFile() && keep(entry.name)) {
      found.push(full);
    }
  }
  return found;
}

/** Names, sizes and modification times of every module file under `dir`, helpers included. */
export async function fingerprintOf(dir: string): Promise<string> {
  const root = path.resolve(dir);
  const isModule = (name: string) => !name.startsWith(".") && moduleExtensions.has(path.extname(name));
  const files = (await walk(root, isModule, true)).sort();
  const entries = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file).catch(() => null);
      return info === null ? `${file}:gone` : `${file}:${info.size}:${info.mtimeMs}`;
    }),
  );
  return entries.join("\n");
}
