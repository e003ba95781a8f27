/**
 * Writing an object's content to a temp file (with its MD5 and SHA-256, from the one pass), and
 * reading an object's facts (size, etag, time, content type) consistently from one open file.
 */
import { createHash, type Hash } from "node:crypto";
import { promises as fs } from "node:fs";
import { Readable } from "node:stream";
import { validationError } from "../../errors.js";
import type { ObjectBody } from "../types.js";
import { readSidecar, type Sidecar } from "./sidecar.js";

const readChunkBytes = 1024 * 1024;

/** A complete, fsynced temp file, ready to be renamed into place. */
export interface WrittenFile {
  /** MD5, lowercase hex: the object's etag. */
  etag: string;
  /** SHA-256, lowercase hex: what export manifests record. */
  sha256: string;
  size: number;
  /** The identity its sidecar is tied to (a rename keeps both). */
  ino: number;
  mtimeMs: number;
}

/**
 * MD5 (the etag, as S3 has it) and SHA-256 (for callers that record a stronger checksum) of the
 * same bytes, so that no caller reads the file a second time for its own hash.
 */
class ContentHashes {
  readonly #md5: Hash = createHash("md5");
  readonly #sha256: Hash = createHash("sha256");
  size = 0;

  update(chunk: Uint8Array): void {
    this.#md5.update(chunk);
    this.#sha256.update(chunk);
    this.size += chunk.byteLength;
  }

  /** `identity`: the file's stat, taken after its last write. */
  finish(identity: { ino: number; mtimeMs: number }): WrittenFile {
    return {
      etag: this.#md5.digest("hex"),
      sha256: this.#sha256.digest("hex"),
      size: this.size,
      ino: identity.ino,
      mtimeMs: identity.mtimeMs,
    };
  }
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

/** Writes `body` to a new file at `filePath` (which must not exist), fsyncs it, and returns its hashes and identity. */
export async function writeNewFile(filePath: string, body: ObjectBody): Promise<WrittenFile> {
  const chunks = chunksOf(body);
  const hashes = new ContentHashes();
  const handle = await fs.open(filePath, "wx");
  try {
    for await (const chunk of chunks) {
      hashes.update(chunk);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    }
    // The content must be on disk before the rename makes it visible: a crash after the rename
    // must not leave an object with missing data.
    await handle.sync();
    return hashes.finish(await handle.stat());
  } finally {
    await handle.close();
  }
}

/**
 * Hashes and fsyncs a file written by someone else (putFile commits files from tempPath). Null if
 * `filePath` is not a regular file.
 */
export async function hashAndSyncFile(filePath: string): Promise<WrittenFile | null> {
  const handle = await fs.open(filePath, "r");
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return null;
    // The fsync runs in the thread pool while this thread hashes: the two take about as long.
    const [synced, hashed] = await Promise.allSettled([handle.sync(), hashOpenFile(handle)]);
    if (hashed.status === "rejected") throw hashed.reason;
    if (synced.status === "rejected") throw synced.reason;
    return hashed.value.finish(stat);
  } finally {
    await handle.close();
  }
}

async function hashOpenFile(handle: fs.FileHandle): Promise<ContentHashes> {
  const hashes = new ContentHashes();
  const buffer = Buffer.allocUnsafe(readChunkBytes);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, hashes.size);
    if (bytesRead === 0) return hashes;
    hashes.update(buffer.subarray(0, bytesRead));
  }
}

async function md5OfOpenFile(handle: fs.FileHandle): Promise<string> {
  const hash = createHash("md5");
  const buffer = Buffer.allocUnsafe(readChunkBytes);
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest("hex");
}

export interface ObjectFacts {
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string;
  /** Best effort, like the content type. */
  metadata: Record<string, string>;
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
  const etag = matches ? sidecar.etag : await md5OfOpenFile(handle);
  return {
    facts: {
      size: stat.size,
      etag,
      lastModified: stat.mtime,
      contentType: matches ? sidecar.contentType : (sidecar?.contentType ?? defaultContentType),
      metadata: sidecar?.metadata ?? {},
      ino: stat.ino,
      mtimeMs: stat.mtimeMs,
    },
    sidecarWasStale: !matches,
  };
}
