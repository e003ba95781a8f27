/**
 * Small filesystem helpers for durable, atomic writes.
 */
import { promises as fs } from "node:fs";
import path from "node:path";

export function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
}

/** fsync a folder, so that a rename or a new entry in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes `dir` and its empty parents up to (not including) `stopAt`; stops at the first non-empty one. */
export async function removeEmptyDirs(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt) && current.length > stopAt.length) {
    try {
      await fs.rmdir(current);
    } catch (error) {
      const code = errnoOf(error);
      if (code === "ENOENT") {
        // Already gone: try its parent.
      } else {
        return; // ENOTEMPTY (someone wrote into it), ENOTDIR, …: leave it.
      }
    }
    current = path.dirname(current);
  }
}
