/**
 * An object's sidecar: its etag and content type, stored beside the bucket (under .meta) and tied
 * to one version of the object by its inode, size and mtime. It is a cache: written after the
 * object's rename, so it can be stale for a moment (or after a crash), and then it is simply not
 * trusted and the etag is recomputed.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { errnoOf } from "./files.js";

export interface Sidecar {
  ino: number;
  size: number;
  mtimeMs: number;
  etag: string;
  contentType: string;
  /** User metadata (x-amz-meta-*); absent in sidecars written before it was kept. */
  metadata?: Record<string, string>;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === "string")
  );
}

export async function readSidecar(sidecarPath: string): Promise<Sidecar | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(sidecarPath, "utf8")) as Partial<Sidecar>;
    if (
      typeof parsed.ino === "number" &&
      typeof parsed.size === "number" &&
      typeof parsed.mtimeMs === "number" &&
      typeof parsed.etag === "string" &&
      typeof parsed.contentType === "string" &&
      (parsed.metadata === undefined || isStringRecord(parsed.metadata))
    ) {
      return parsed as Sidecar;
    }
    return null;
  } catch {
    // Missing, half-written by a crash, or a folder of a stale layout: not trusted.
    return null;
  }
}

/**
 * Writes the sidecar atomically (temp + rename), best effort: failing to cache an etag only costs
 * recomputing it later, so errors are swallowed. The rename is tried first (the folder usually
 * exists); a missing folder is made, and a stale sidecar file or folder in the way (left by a
 * crash) is removed, before the next try.
 */
export async function writeSidecar(tempDir: string, sidecarPath: string, sidecar: Sidecar): Promise<void> {
  const temp = path.join(tempDir, `meta-${randomBytes(12).toString("hex")}`);
  let renamed = false;
  try {
    await fs.writeFile(temp, JSON.stringify(sidecar), { flag: "wx" });
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await fs.rename(temp, sidecarPath);
        renamed = true;
        return;
      } catch (error) {
        const code = errnoOf(error);
        if (code === "ENOENT") {
          await fs.mkdir(path.dirname(sidecarPath), { recursive: true });
        } else if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") {
          await fs.rm(sidecarPath, { recursive: true, force: true });
        } else if (code === "ENOTDIR") {
          await removeFileAncestor(path.dirname(sidecarPath));
        } else {
          return;
        }
      }
    }
  } catch {
    // Best effort (see above).
  } finally {
    if (!renamed) await fs.rm(temp, { force: true }).catch(() => {});
  }
}

/** Removes the first ancestor of `dir` that is a file (a stale sidecar where a folder is needed). */
async function removeFileAncestor(dir: string): Promise<void> {
  let current = dir;
  const chain: string[] = [];
  while (current !== path.dirname(current)) {
    chain.unshift(current);
    current = path.dirname(current);
  }
  for (const candidate of chain) {
    const stat = await fs.stat(candidate).catch(() => null);
    if (stat === null) return;
    if (!stat.isDirectory()) {
      await fs.rm(candidate, { force: true });
      return;
    }
  }
}

export async function removeSidecar(sidecarPath: string): Promise<void> {
  await fs.rm(sidecarPath, { force: true }).catch(() => {});
}
