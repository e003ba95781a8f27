/**
 * S3-style listing over a folder tree: keys in UTF-8 byte order, optional prefix, delimiter
 * roll-up into common prefixes, and paging with startAfter.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { errnoOf } from "./files.js";

/** Every file under `dir`, as keys relative to `bucketDir` (joined with `/`). */
export async function collectKeys(bucketDir: string, dir: string): Promise<string[]> {
  const keys: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(current, { withFileTypes: true });
    } catch (error) {
      const code = errnoOf(error);
      if (code === "ENOENT" || code === "ENOTDIR") return; // removed meanwhile, or a file: nothing under it
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) keys.push(path.relative(bucketDir, full).split(path.sep).join("/"));
    }
  }
  await walk(dir);
  return keys;
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export type ListEntry = { kind: "object"; key: string } | { kind: "prefix"; prefix: string };

/**
 * The entries of a listing, in order. An entry (a key, or a common prefix) is listed only if it
 * sorts after `startAfter`; so passing the last entry of a page as the next `startAfter` continues
 * without repeating anything, even when that entry is a common prefix.
 */
export function* listEntries(
  sortedKeys: string[],
  prefix: string,
  delimiter: string | undefined,
  startAfter: string | undefined,
): Generator<ListEntry> {
  let lastPrefix: string | undefined;
  for (const key of sortedKeys) {
    if (!key.startsWith(prefix)) continue;
    if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
    if (delimiter !== undefined) {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        const common = key.slice(0, at + delimiter.length);
        if (common === lastPrefix) continue;
        lastPrefix = common;
        if (startAfter !== undefined && compareKeys(common, startAfter) <= 0) continue;
        yield { kind: "prefix", prefix: common };
        continue;
      }
    }
    yield { kind: "object", key };
  }
}
