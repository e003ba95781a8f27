/**
 * The lake on a local folder. Every put writes a temp file in <root>/.tmp, fsyncs it, and renames
 * it over the object's path, then fsyncs the folder: readers and listers see the old version or
 * the new one, never a part, and a committed put survives a crash.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { conflict, HourglassError, isHourglassError, notFound, validationError } from "../../errors.js";
import { checkBucketName } from "../names.js";
import { checkByteRange, resolveRange, unsatisfiableRange } from "../range.js";
import type {
  BucketHead,
  ByteRange,
  Lake,
  ListOptions,
  ListResult,
  ObjectBody,
  ObjectHead,
  ObjectRead,
  ObjectSummary,
  PutOptions,
  PutResult,
} from "../types.js";
import { factsOfOpenFile, hashAndSyncFile, type WrittenFile, writeNewFile } from "./content.js";
import { errnoOf, removeEmptyDirs, syncDir } from "./files.js";
import { ensureFolders, removeFoldersBottomUp, removeStaleTemps } from "./folders.js";
import { keySegments, type Layout, layoutOf, prefixFolderSegments } from "./layout.js";
import { collectKeys, compareKeys, listEntries } from "./listing.js";
import { checkContentType, checkEtag, checkListOptions, checkMetadata } from "./options.js";
import { streamFileSpan } from "./read.js";
import { removeSidecar, writeSidecar } from "./sidecar.js";

/** Temp files older than this were left by a crash: removed when the lake first writes. */
const staleTempMs = 24 * 60 * 60 * 1000;
/** A concurrent delete may remove an empty folder a put has just created: the put then retries. */
const commitAttempts = 5;

const readChunkBytes = 256 * 1024;

function objectUrl(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** What a put records beside the content: the caller's content type, metadata and etag (if given). */
interface StoredFacts {
  contentType: string;
  metadata?: Record<string, string>;
  etag?: string;
}

function storedFactsOf(options: PutOptions): StoredFacts {
  return {
    contentType: checkContentType(options.contentType),
    metadata: checkMetadata(options.metadata),
    etag: checkEtag(options.etag),
  };
}

function wrap(error: unknown, what: string): HourglassError {
  if (isHourglassError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HourglassError("Internal", `lake: ${what}: ${message}`, { cause: error });
}

class LocalLake implements Lake {
  readonly #layout: Layout;
  #tempReady: Promise<void> | undefined;

  constructor(rootDir: string) {
    this.#layout = layoutOf(rootDir);
  }

  async createBucket(bucket: string): Promise<void> {
    const dir = this.#layout.bucketDir(bucket);
    try {
      await fs.mkdir(this.#layout.root, { recursive: true });
      await fs.mkdir(dir);
      await syncDir(this.#layout.root);
    } catch (error) {
      if (errnoOf(error) === "EEXIST") throw conflict(`bucket ${bucket} already exists`, { bucket });
      throw wrap(error, `create bucket ${bucket}`);
    }
  }

  async listBuckets(): Promise<string[]> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(this.#layout.root, { withFileTypes: true });
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return [];
      throw wrap(error, "list buckets");
    }
    return entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
      .map((entry) => entry.name)
      .sort(compareKeys);
  }

  async deleteBucket(bucket: string): Promise<void> {
    const dir = this.#layout.bucketDir(bucket);
    await this.#requireBucket(bucket);
    const keys = await collectKeys(dir, dir);
    if (keys.length > 0) throw conflict(`bucket ${bucket} is not empty (${keys.length} objects)`, { bucket });
    try {
      // Bottom-up rmdir, never a recursive rm: an object put meanwhile makes it fail, not vanish.
      await removeFoldersBottomUp(dir);
    } catch (error) {
      if (errnoOf(error) === "ENOTEMPTY" || errnoOf(error) === "EEXIST") {
        throw conflict(`bucket ${bucket} is not empty`, { bucket });
      }
      throw wrap(error, `delete bucket ${bucket}`);
    }
    await fs.rm(this.#layout.metaBucketDir(bucket), { recursive: true, force: true });
  }

  async putObject(
    bucket: string,
    key: string,
    body: ObjectBody,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const segments = keySegments(key);
    const stored = storedFactsOf(options);
    await this.#requireBucket(bucket);
    const temp = await this.#newTempPath(`put-${bucket}`);
    try {
      const written = await writeNewFile(temp, body);
      return await this.#commit(bucket, key, segments, temp, written, stored);
    } catch (error) {
      // A committed temp file has become the object; one that was not is removed.
      await fs.rm(temp, { force: true });
      throw wrap(error, `put ${objectUrl(bucket, key)}`);
    }
  }

  async putFile(
    bucket: string,
    key: string,
    localPath: string,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const segments = keySegments(key);
    const stored = storedFactsOf(options);
    if (typeof localPath !== "string" || localPath.length === 0)
      throw validationError("localPath must be a file path");
    await this.#requireBucket(bucket);
    const source = path.resolve(localPath);
    const missing = () => notFound(`local file ${source} does not exist`, { localPath: source });
    // A file in our temp folder is ours to move: hashed and fsynced where it is, then renamed.
    if (path.dirname(source) === this.#layout.tempDir) {
      let written: WrittenFile | null;
      try {
        written = await hashAndSyncFile(source);
      } catch (error) {
        if (errnoOf(error) === "ENOENT") throw missing();
        throw wrap(error, `put ${objectUrl(bucket, key)} from ${source}`);
      }
      if (written === null) throw missing();
      try {
        return await this.#commit(bucket, key, segments, source, written, stored);
      } catch (error) {
        throw wrap(error, `put ${objectUrl(bucket, key)} from ${source}`);
      }
    }
    // Any other file is copied, so the caller keeps it.
    const stat = await fs.stat(source).catch(() => null);
    if (stat === null || !stat.isFile()) throw missing();
    const temp = await this.#newTempPath(`copy-${bucket}`);
    try {
      const written = await writeNewFile(temp, createReadStream(source));
      return await this.#commit(bucket, key, segments, temp, written, stored);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw wrap(error, `put ${objectUrl(bucket, key)} from ${source}`);
    }
  }

  async tempPath(bucket: string): Promise<string> {
    await this.#requireBucket(bucket);
    return this.#newTempPath(`file-${bucket}`);
  }

  async getObject(bucket: string, key: string): Promise<Uint8Array> {
    const target = this.#objectPath(bucket, key);
    try {
      return await fs.readFile(target);
    } catch (error) {
      throw await this.#missing(error, bucket, key);
    }
  }

  getObjectStream(bucket: string, key: string): Readable {
    const lake = this;
    return Readable.from(
      (async function* () {
        const handle = await lake.#openObject(bucket, key);
        try {
          const buffer = Buffer.allocUnsafe(readChunkBytes);
          for (;;) {
            const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
            if (bytesRead === 0) return;
            yield Buffer.from(buffer.subarray(0, bytesRead));
          }
        } finally {
          await handle.close();
        }
      })(),
      { objectMode: false },
    );
  }

  async headObject(bucket: string, key: string): Promise<ObjectHead | null> {
    let handle: fs.FileHandle;
    try {
      handle = await this.#openObject(bucket, key);
    } catch (error) {
      if (isHourglassError(error, "NotFound") && error.context["key"] !== undefined) return null;
      throw error;
    }
    try {
      const { facts } = await this.#facts(bucket, key, handle);
      return {
        size: facts.size,
        etag: facts.etag,
        lastModified: facts.lastModified,
        contentType: facts.contentType,
        metadata: facts.metadata,
      };
    } finally {
      await handle.close();
    }
  }

  async listObjects(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    const { prefix, delimiter, startAfter, maxKeys } = checkListOptions(options);
    const bucketDir = this.#layout.bucketDir(bucket);
    await this.#requireBucket(bucket);
    const folder = prefixFolderSegments(prefix);
    if (folder === null) return { objects: [], commonPrefixes: [], isTruncated: false };
    const keys = (await collectKeys(bucketDir, path.join(bucketDir, ...folder))).sort(compareKeys);

    const objects: ObjectSummary[] = [];
    const commonPrefixes: string[] = [];
    let returned = 0;
    let last: string | undefined;
    for (const entry of listEntries(keys, prefix, delimiter, startAfter)) {
      if (returned === maxKeys) return { objects, commonPrefixes, isTruncated: true, nextStartAfter: last! };
      if (entry.kind === "prefix") {
        commonPrefixes.push(entry.prefix);
        last = entry.prefix;
        returned++;
        continue;
      }
      const summary = await this.#summary(bucket, entry.key);
      if (summary === null) continue; // deleted since the walk
      objects.push(summary);
      last = entry.key;
      returned++;
    }
    return { objects, commonPrefixes, isTruncated: false };
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const segments = keySegments(key);
    await this.#requireBucket(bucket);
    const target = path.join(this.#layout.bucketDir(bucket), ...segments);
    try {
      await fs.unlink(target);
      await syncDir(path.dirname(target));
    } catch (error) {
      const code = errnoOf(error);
      // A missing key, or a key that is only a prefix of others (a folder): nothing to delete, as on S3.
      if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "EISDIR" && code !== "EPERM") {
        throw wrap(error, `delete ${objectUrl(bucket, key)}`);
      }
    }
    const sidecar = path.join(this.#layout.metaBucketDir(bucket), ...segments);
    await removeSidecar(sidecar);
    await removeEmptyDirs(path.dirname(target), this.#layout.bucketDir(bucket));
    await removeEmptyDirs(path.dirname(sidecar), this.#layout.metaBucketDir(bucket));
  }

  async headBucket(bucket: string): Promise<BucketHead | null> {
    const stat = await fs.stat(this.#layout.bucketDir(bucket)).catch(() => null);
    if (stat === null || !stat.isDirectory()) return null;
    // Creation time where the filesystem records it (statx), else the folder's last change.
    return { name: bucket, createdAt: stat.birthtimeMs > 0 ? stat.birthtime : stat.ctime };
  }

  async readObject(bucket: string, key: string, range?: ByteRange): Promise<ObjectRead> {
    if (range !== undefined) checkByteRange(range);
    const handle = await this.#openObject(bucket, key);
    let span: { start: number; end: number } | null = null;
    let head: ObjectHead;
    try {
      const { facts } = await this.#facts(bucket, key, handle);
      const { size, etag, lastModified, contentType, metadata } = facts;
      head = { size, etag, lastModified, contentType, metadata };
      if (range !== undefined) {
        span = resolveRange(range, size);
        if (span === null) throw unsatisfiableRange(range, size, { bucket, key });
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    // From here the stream owns the handle.
    const body = streamFileSpan(handle, span?.start ?? 0, span?.end ?? head.size - 1);
    return span === null ? { head, body } : { head, range: span, body };
  }

  // --- internals ---------------------------------------------------------------------------

  #objectPath(bucket: string, key: string): string {
    return path.join(this.#layout.bucketDir(bucket), ...keySegments(key));
  }

  async #requireBucket(bucket: string): Promise<void> {
    checkBucketName(bucket);
    const stat = await fs.stat(this.#layout.bucketDir(bucket)).catch(() => null);
    if (stat === null || !stat.isDirectory()) throw notFound(`bucket ${bucket} does not exist`, { bucket });
  }

  /** NotFound naming the bucket or the key, for an fs error on an object path. */
  async #missing(error: unknown, bucket: string, key: string): Promise<HourglassError> {
    const code = errnoOf(error);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
      await this.#requireBucket(bucket);
      return notFound(`object ${objectUrl(bucket, key)} does not exist`, { bucket, key });
    }
    return wrap(error, `read ${objectUrl(bucket, key)}`);
  }

  async #openObject(bucket: string, key: string): Promise<fs.FileHandle> {
    const target = this.#objectPath(bucket, key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(target, "r");
    } catch (error) {
      throw await this.#missing(error, bucket, key);
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw await this.#missing(Object.assign(new Error("a folder"), { code: "EISDIR" }), bucket, key);
    }
    return handle;
  }

  async #facts(bucket: string, key: string, handle: fs.FileHandle) {
    const sidecarPath = path.join(this.#layout.metaBucketDir(bucket), ...keySegments(key));
    const result = await factsOfOpenFile(handle, sidecarPath);
    if (result.sidecarWasStale && (await this.#isCurrent(bucket, key, result.facts.ino))) {
      // Cache the recomputed etag for next time (after a crash, or a sidecar lost). Not for a
      // version already replaced: its sidecar would overwrite the new version's.
      await this.#ensureTempDir();
      const { size, mtimeMs, ino, etag, contentType, metadata } = result.facts;
      await writeSidecar(this.#layout.tempDir, sidecarPath, {
        ino,
        size,
        mtimeMs,
        etag,
        contentType,
        metadata,
      });
    }
    return result;
  }

  async #isCurrent(bucket: string, key: string, ino: number): Promise<boolean> {
    const stat = await fs.stat(this.#objectPath(bucket, key)).catch(() => null);
    return stat !== null && stat.ino === ino;
  }

  async #summary(bucket: string, key: string): Promise<ObjectSummary | null> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path.join(this.#layout.bucketDir(bucket), ...key.split("/")), "r");
    } catch (error) {
      if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return null;
      throw wrap(error, `list ${objectUrl(bucket, key)}`);
    }
    try {
      const { facts } = await this.#facts(bucket, key, handle);
      return { key, size: facts.size, etag: facts.etag, lastModified: facts.lastModified };
    } finally {
      await handle.close();
    }
  }

  #ensureTempDir(): Promise<void> {
    this.#tempReady ??= (async () => {
      await fs.mkdir(this.#layout.tempDir, { recursive: true });
      await removeStaleTemps(this.#layout.tempDir, Date.now() - staleTempMs);
    })().catch((error) => {
      this.#tempReady = undefined;
      throw wrap(error, "prepare the temp folder");
    });
    return this.#tempReady;
  }

  async #newTempPath(label: string): Promise<string> {
    await this.#ensureTempDir();
    return path.join(this.#layout.tempDir, `${label}-${randomBytes(12).toString("hex")}.part`);
  }

  /** Renames a complete, fsynced temp file into place as the object. */
  async #commit(
    bucket: string,
    key: string,
    segments: string[],
    temp: string,
    written: WrittenFile,
    stored: StoredFacts,
  ): Promise<PutResult> {
    const bucketDir = this.#layout.bucketDir(bucket);
    const target = path.join(bucketDir, ...segments);
    // The sidecar goes first, tied to the temp file's inode (a rename keeps it): whoever sees the
    // new object then also finds its etag; a reader of the old one sees a mismatch and recomputes.
    const { ino, size, mtimeMs } = written;
    const etag = stored.etag ?? written.etag;
    await writeSidecar(this.#layout.tempDir, path.join(this.#layout.metaBucketDir(bucket), ...segments), {
      ino,
      size,
      mtimeMs,
      etag,
      contentType: stored.contentType,
      ...(stored.metadata === undefined ? {} : { metadata: stored.metadata }),
    });
    // The rename is tried first: the key's folders usually exist already (a re-run, a manifest
    // beside its file). Only when one is missing, or is an object, are they made (or the clash
    // named), and the rename tried again.
    let created: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        await fs.rename(temp, target);
        break;
      } catch (error) {
        const code = errnoOf(error);
        if ((code === "ENOENT" || code === "ENOTDIR") && attempt < commitAttempts) {
          // Makes the missing folders, or names the object in the way, or the missing bucket. A
          // concurrent delete may remove a folder made here: the next attempt makes it again.
          const made = await ensureFolders(bucketDir, segments.slice(0, -1), bucket, key);
          if (made.length === 0) await this.#requireBucket(bucket);
          created = created.concat(made);
          continue;
        }
        if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") {
          throw conflict(
            `object ${objectUrl(bucket, key)} cannot be written: other objects have keys under ${key}/`,
            {
              bucket,
              key,
            },
          );
        }
        throw error;
      }
    }
    // The folder that gained the entry, and the parent of each folder made: fsynced side by side.
    const changed = new Set([path.dirname(target), ...created.map((folder) => path.dirname(folder))]);
    await Promise.all([...changed].map(syncDir));
    return { etag, sha256: written.sha256, size };
  }
}

/** A lake in the folder `rootDir` (created on the first bucket). */
export function openLocalLake(rootDir: string): Lake {
  if (typeof rootDir !== "string" || rootDir.length === 0)
    throw validationError("the lake's root folder must be a path");
  return new LocalLake(rootDir);
}
