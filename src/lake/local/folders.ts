/**
 * Folder operations of the local lake that must not race with concurrent puts and deletes.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { conflict, notFound } from "../../errors.js";
import { errnoOf } from "./files.js";

/** Creates the key's folders one level at a time (never the bucket itself); returns the ones it made. */
export async function ensureFolders(
  bucketDir: string,
  folders: string[],
  bucket: string,
  key: string,
): Promise<string[]> {
  const created: string[] = [];
  let current = bucketDir;
  for (const folder of folders) {
    current = path.join(current, folder);
    try {
      await fs.mkdir(current);
      created.push(current);
    } catch (error) {
      const code = errnoOf(error);
      if (code === "EEXIST") {
        const stat = await fs.stat(current);
        if (stat.isDirectory()) continue;
        const blocking = path.relative(bucketDir, current).split(path.sep).join("/");
        throw conflict(`object s3://${bucket}/${key} cannot be written: object ${blocking} is in the way`, {
          bucket,
          key,
          blocking,
        });
      }
      if (code === "ENOTDIR")
        throw conflict(`object s3://${bucket}/${key} cannot be written: an object is in the way`, {
          bucket,
          key,
        });
      if (code === "ENOENT") throw notFound(`bucket ${bucket} does not exist`, { bucket });
      throw error;
    }
  }
  return created;
}

export async function removeFoldersBottomUp(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.isDirectory()) await removeFoldersBottomUp(path.join(dir, entry.name));
  }
  await fs.rmdir(dir);
}

export async function removeStaleTemps(tempDir: string, olderThanMs: number): Promise<void> {
  for (const name of await fs.readdir(tempDir)) {
    const full = path.join(tempDir, name);
    const stat = await fs.stat(full).catch(() => null);
    if (stat !== null && stat.mtimeMs < olderThanMs) await fs.rm(full, { force: true, recursive: true });
  }
}
