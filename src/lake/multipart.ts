/**
 * Multipart uploads over any lake, as S3 has them: parts are staged as files in the lake's temp
 * area (`tempPath`), and completing the upload joins them into one more temp file that `putFile`
 * commits with a rename. The object therefore appears whole or not at all, and an upload that is
 * aborted, or never completed, leaves nothing in the bucket.
 *
 * Uploads in progress are kept in memory: a restart forgets them (clients start again; their part
 * files are swept from the temp area by the lake once they are a day old).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import { Readable } from "node:stream";
import { type HourglassError, notFound, validationError } from "../errors.js";
import { checkKey } from "./names.js";
import type { Lake, PutOptions, PutResult } from "./types.js";

/** S3's limits: part numbers 1 to 10,000; every part but the last at least 5 MiB. */
export const maxPartNumber = 10_000;
export const minPartBytes = 5 * 1024 * 1024;

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  options: PutOptions;
}

export interface StagedPart {
  partNumber: number;
  /** MD5 of the part, lowercase hex (S3's part ETag, unquoted). */
  etag: string;
  size: number;
  lastModified: Date;
}

/** Why CompleteMultipartUpload refused the list of parts, named as S3 names it. */
export type MultipartRefusal = "InvalidPart" | "InvalidPartOrder" | "EntityTooSmall";

interface UploadState extends MultipartUpload {
  parts: Map<number, StagedPart & { path: string }>;
  /** Set while a complete or an abort runs: new parts are refused, and late ones removed. */
  closing: boolean;
}

function refuse(reason: MultipartRefusal, message: string, context: Record<string, unknown>): HourglassError {
  return validationError(message, { ...context, reason });
}

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, then `-` and the count. */
export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash("md5");
  for (const etag of partEtags) md5.update(Buffer.from(etag, "hex"));
  return `${md5.digest("hex")}-${partEtags.length}`;
}

export class MultipartUploads {
  readonly #lake: Lake;
  readonly #uploads = new Map<string, UploadState>();

  constructor(lake: Lake) {
    this.#lake = lake;
  }

  /** NotFound if the bucket does not exist; ValidationError for a key this lake cannot hold. */
  async create(bucket: string, key: string, options: PutOptions = {}): Promise<MultipartUpload> {
    checkKey(key);
    // Asking for the object checks the bucket and whether this lake can hold the key at all
    // (a folder cannot hold `a//b`), so that is refused now rather than after every part is sent.
    await this.#lake.headObject(bucket, key);
    const upload: UploadState = {
      uploadId: randomBytes(24).toString("base64url"),
      bucket,
      key,
      initiated: new Date(),
      options,
      parts: new Map(),
      closing: false,
    };
    this.#uploads.set(upload.uploadId, upload);
    return publicUpload(upload);
  }

  /** Stages a part; a part sent again under the same number replaces the earlier one. */
  async uploadPart(
    uploadId: string,
    partNumber: number,
    body: Readable | Uint8Array,
    expected?: { bucket: string; key: string },
  ): Promise<StagedPart> {
    const upload = this.#open(uploadId, expected);
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > maxPartNumber)
      throw validationError(`part number ${partNumber} is not an integer from 1 to ${maxPartNumber}`, {
        uploadId,
        partNumber,
      });
    const file = await this.#lake.tempPath(upload.bucket);
    let part: StagedPart & { path: string };
    try {
      const { etag, size } = await writeHashed(file, body);
      part = { partNumber, etag, size, lastModified: new Date(), path: file };
    } catch (error) {
      await fs.rm(file, { force: true });
      throw error;
    }
    if (upload.closing || this.#uploads.get(uploadId) !== upload) {
      await fs.rm(file, { force: true });
      throw noSuchUpload(uploadId);
    }
    const earlier = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (earlier) await fs.rm(earlier.path, { force: true });
    return publicPart(part);
  }

  listParts(uploadId: string, expected?: { bucket: string; key: string }): StagedPart[] {
    const upload = this.#open(uploadId, expected);
    return [...upload.parts.values()].sort((a, b) => a.partNumber - b.partNumber).map(publicPart);
  }

  /** The bucket's uploads in progress, by key, then by start. */
  listUploads(bucket: string): MultipartUpload[] {
    return [...this.#uploads.values()]
      .filter((upload) => upload.bucket === bucket && !upload.closing)
      .sort((a, b) =>
        a.key === b.key
          ? a.initiated.getTime() - b.initiated.getTime()
          : Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)),
      )
      .map(publicUpload);
  }

  get(uploadId: string, expected?: { bucket: string; key: string }): MultipartUpload {
    return publicUpload(this.#open(uploadId, expected));
  }

  /**
   * Joins the listed parts (ascending part numbers, each with the etag its upload returned; every
   * part but the last at least 5 MiB) and commits the object. Parts not listed are discarded.
   */
  async complete(
    uploadId: string,
    listed: { partNumber: number; etag: string }[],
    expected?: { bucket: string; key: string },
  ): Promise<PutResult> {
    const upload = this.#open(uploadId, expected);
    const context = { bucket: upload.bucket, key: upload.key, uploadId };
    if (listed.length === 0) throw refuse("InvalidPart", "the upload must list at least one part", context);
    const chosen: (StagedPart & { path: string })[] = [];
    for (const [index, entry] of listed.entries()) {
      const previous = listed[index - 1];
      if (previous !== undefined && entry.partNumber <= previous.partNumber)
        throw refuse(
          "InvalidPartOrder",
          `parts must be listed in ascending order: part ${entry.partNumber} comes after part ${previous.partNumber}`,
          context,
        );
      const part = upload.parts.get(entry.partNumber);
      const etag = entry.etag.replace(/^"|"$/g, "").toLowerCase();
      if (part === undefined || part.etag !== etag)
        throw refuse(
          "InvalidPart",
          part === undefined
            ? `part ${entry.partNumber} was not uploaded`
            : `part ${entry.partNumber} has ETag "${part.etag}", not "${etag}"`,
          { ...context, partNumber: entry.partNumber },
        );
      chosen.push(part);
    }
    for (const part of chosen.slice(0, -1)) {
      if (part.size < minPartBytes)
        throw refuse(
          "EntityTooSmall",
          `part ${part.partNumber} has ${part.size} bytes: every part but the last needs at least ${minPartBytes} (5 MiB)`,
          { ...context, partNumber: part.partNumber, size: part.size },
        );
    }

    upload.closing = true;
    const joined = await this.#lake.tempPath(upload.bucket).catch((error: unknown) => {
      upload.closing = false;
      throw error;
    });
    try {
      await joinFiles(
        joined,
        chosen.map((part) => part.path),
      );
      const result = await this.#lake.putFile(upload.bucket, upload.key, joined, {
        ...upload.options,
        etag: multipartEtag(chosen.map((part) => part.etag)),
      });
      this.#uploads.delete(uploadId);
      await removeParts(upload);
      return result;
    } catch (error) {
      // The upload stays open, so the client may complete it again (or abort it).
      upload.closing = false;
      await fs.rm(joined, { force: true });
      throw error;
    }
  }

  async abort(uploadId: string, expected?: { bucket: string; key: string }): Promise<void> {
    const upload = this.#open(uploadId, expected);
    upload.closing = true;
    this.#uploads.delete(uploadId);
    await removeParts(upload);
  }

  /** Aborts every upload into `bucket` (after the bucket is deleted). */
  async abortAll(bucket: string): Promise<void> {
    for (const upload of [...this.#uploads.values()]) {
      if (upload.bucket === bucket) await this.abort(upload.uploadId).catch(() => {});
    }
  }

  #open(uploadId: string, expected?: { bucket: string; key: string }): UploadState {
    const upload = this.#uploads.get(uploadId);
    if (
      upload === undefined ||
      upload.closing ||
      (expected !== undefined && (expected.bucket !== upload.bucket || expected.key !== upload.key))
    )
      throw noSuchUpload(uploadId);
    return upload;
  }
}

function noSuchUpload(uploadId: string): HourglassError {
  return notFound(
    `upload ${uploadId} does not exist for this key: it was completed, aborted, or started before a restart`,
    { uploadId },
  );
}

function publicUpload(upload: UploadState): MultipartUpload {
  const { uploadId, bucket, key, initiated, options } = upload;
  return { uploadId, bucket, key, initiated, options };
}

function publicPart(part: StagedPart): StagedPart {
  const { partNumber, etag, size, lastModified } = part;
  return { partNumber, etag, size, lastModified };
}

async function removeParts(upload: UploadState): Promise<void> {
  await Promise.all([...upload.parts.values()].map((part) => fs.rm(part.path, { force: true })));
  upload.parts.clear();
}

/** Writes `body` to the new file `file`, returning its MD5 and size. */
async function writeHashed(
  file: string,
  body: Readable | Uint8Array,
): Promise<{ etag: string; size: number }> {
  const md5 = createHash("md5");
  let size = 0;
  const handle = await fs.open(file, "wx");
  try {
    const chunks = body instanceof Uint8Array ? [body] : body;
    for await (const chunk of chunks as AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
      md5.update(chunk);
      size += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
  return { etag: md5.digest("hex"), size };
}

/** Concatenates `parts` into the new file `target` (putFile fsyncs it before the commit). */
async function joinFiles(target: string, parts: string[]): Promise<void> {
  const handle = await fs.open(target, "wx");
  try {
    for (const part of parts) {
      for await (const chunk of Readable.from(createReadStream(part, { highWaterMark: 1024 * 1024 }))) {
        const bytes = chunk as Buffer;
        let offset = 0;
        while (offset < bytes.byteLength) {
          const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
          offset += bytesWritten;
        }
      }
    }
  } finally {
    await handle.close();
  }
}
