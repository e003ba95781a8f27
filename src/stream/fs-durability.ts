import { open, rename, writeFile } from "node:fs/promises";

/**
 * fsync of a directory makes the creation, rename or removal of its entries durable; a file's own
 * fsync does not. Linux allows opening a directory read-only for this.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces a small file whole or not at all: write a temp file, sync it, rename, sync the folder. */
export async function writeFileAtomic(file: string, text: string, dir: string, sync: boolean): Promise<void> {
  const temp = `${file}.tmp`;
  await writeFile(temp, text);
  if (sync) {
    const handle = await open(temp, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await rename(temp, file);
  if (sync) await fsyncDirectory(dir);
}
