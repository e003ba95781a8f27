/**
 * Writing an object's content to a temp file (with its MD5), and reading an object's facts
 * (size, etag, time, content type) consistently from one open file.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { Readable } from "node:stream";
import { validationError } from "../../errors.js";
import type { ObjectBody } from "../types.js";
import { readSidecar, type Sidecar } from "./sidecar.js";

const readChunkBytes = 1024 * 1024;

export interface WrittenFile {
  etag: string;
  size: number;
}

function chunksOf(body: ObjectBody): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (typeof body === "string") return [Buffer.from(body, "utf8")];
  if (body instanceof Uint8Array) return [body];
  if (body instanceof Readable) {
    return (async function* () {
      for await (const chunk of body)
        yield typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Uint8Array);
    })();
  }
  throw validationError("the object body must be a Uint8Array, a string or a Readable stream");
}

/** Writes `body` to a new file at `filePath` (which must not exist), fsyncs it, and returns its MD5 and size. */
export async function writeNewFile(filePath: string, body: ObjectBody): Promise<WrittenFile> {
  const chunks = chunksOf(body);
  const hash = createHash("md5");
  let size = 0;
  const handle = await fs.open(filePath, "wx");
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    }
    // The content must be on disk before the rename makes it visible: a crash after the rename
    // must not leave an object with missing data.
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { etag: hash.digest("hex"), size };
}

/** MD5 and size of an existing file, which is fsynced too (putFile commits files written by others). */
export async function hashAndSyncFile(filePath: string): Promise<WrittenFile> {
  const handle = await fs.open(filePath, "r");
  try {
    const { etag, size } = await hashOpenFile(handle);
    await handle.sync();
    return { etag, size };
  } finally {
    await handle.close();
  }
}

async function hashOpenFile(handle: fs.FileHandle): Promise<WrittenFile> {
  const hash = createHash("md5");
  const buffer = Buffer.allocUnsafe(readChunkBytes);
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { etag: hash.digest("hex"), size };
}

export interface ObjectFacts {
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string;
  /** The identity the sidecar must match to be trusted. */
  ino: number;
  mtimeMs: number;
}

export const defaultContentType = "application/octet-stream";

/**
 * Facts of the object open as `handle`. All come from that one open file: a concurrent re-put
 * (which renames a new file into place) cannot mix two versions. The sidecar's etag is trusted
 * only if it was written for this very file (same inode, size and mtime); otherwise the MD5 is
 * computed from the open file.
 */
export async function factsOfOpenFile(
  handle: fs.FileHandle,
  sidecarPath: string,
): Promise<{ facts: ObjectFacts; sidecarWasStale: boolean }> {
  const stat = await handle.stat();
  const sidecar: Sidecar | null = await readSidecar(sidecarPath);
  const matches =
    sidecar !== null &&
    sidecar.ino === stat.ino &&
    sidecar.size === stat.size &&
    sidecar.mtimeMs === stat.mtimeMs;
  const etag = matches ? sidecar.etag : (await hashOpenFile(handle)).etag;
  return {
    facts: {
      size: stat.size,
      etag,
      lastModified: stat.mtime,
      contentType: matches ? sidecar.contentType : (sidecar?.contentType ?? defaultContentType),
      ino: stat.ino,
      mtimeMs: stat.mtimeMs,
    },
    sidecarWasStale: !matches,
  };
}
