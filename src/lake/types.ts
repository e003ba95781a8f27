/**
 * The lake: object storage shaped like S3's basics, so the local folder implementation and an S3
 * one are interchangeable. Keys are `/`-separated; listing is in UTF-8 byte order, like S3.
 */
import type { Readable } from "node:stream";

export type ObjectBody = Uint8Array | string | Readable;

export interface PutOptions {
  /** Default `application/octet-stream`. */
  contentType?: string;
  /**
   * User metadata (S3's `x-amz-meta-*`), names in lowercase. Kept with the object as its content
   * type is (the local lake keeps both in its sidecar).
   */
  metadata?: Record<string, string>;
  /**
   * The etag to record instead of the content's MD5: a multipart upload's
   * `<MD5 of the parts' MD5s>-<number of parts>`, as S3 reports it. Lowercase hex, unquoted.
   */
  etag?: string;
}

export interface PutResult {
  /** The MD5 of the content, as lowercase hex (S3's ETag for a single-part upload, unquoted). */
  etag: string;
  /**
   * The SHA-256 of the content, as lowercase hex, from the same pass over the bytes (for an S3
   * lake, the x-amz-checksum-sha256 of the upload): what export manifests record.
   */
  sha256: string;
  size: number;
}

export interface ObjectHead {
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string;
  /** User metadata given to the put (`PutOptions.metadata`); empty when none. */
  metadata?: Record<string, string>;
}

export interface BucketHead {
  name: string;
  createdAt: Date;
}

/**
 * Which bytes of an object to read, as HTTP's Range header has them: `{ start, end }` (end
 * inclusive, clipped to the size), `{ start }` to the end, or `{ suffix }`, the last `suffix` bytes.
 */
export type ByteRange = { start: number; end?: number } | { suffix: number };

/** An object's facts and its content, both from the same version of the object. */
export interface ObjectRead {
  head: ObjectHead;
  /** The bytes `body` holds (end inclusive) when a range was asked for; absent for the whole object. */
  range?: { start: number; end: number };
  /** Must be read to its end or destroyed: it holds the open file. */
  body: Readable;
}

export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface ListOptions {
  /** Only keys that start with this. */
  prefix?: string;
  /** Keys whose rest (after the prefix) contains this are rolled up into one common prefix. */
  delimiter?: string;
  /** Only entries (keys or common prefixes) that sort after this; pass `nextStartAfter` to page. */
  startAfter?: string;
  /** At most this many entries (keys plus common prefixes), 1 to 1000. Default 1000. */
  maxKeys?: number;
}

export interface ListResult {
  objects: ObjectSummary[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Set when truncated: the last entry returned. */
  nextStartAfter?: string;
}

export interface Lake {
  /** Conflict if it exists; ValidationError if the name breaks S3's bucket naming rules. */
  createBucket(bucket: string): Promise<void>;
  listBuckets(): Promise<string[]>;
  /** NotFound if missing; Conflict if it still holds objects. */
  deleteBucket(bucket: string): Promise<void>;
  /** Writes the whole object or nothing: readers see the previous version until it is complete. A re-put replaces. */
  putObject(bucket: string, key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult>;
  /**
   * Commits a finished local file as the object, atomically. A file under the lake's temp folder
   * (from `tempPath`) is moved; any other file is copied and left in place.
   */
  putFile(bucket: string, key: string, localPath: string, options?: PutOptions): Promise<PutResult>;
  /** A fresh path on the lake's own filesystem to write a file to before `putFile` commits it. */
  tempPath(bucket: string): Promise<string>;
  /** NotFound if the bucket or the object does not exist. */
  getObject(bucket: string, key: string): Promise<Uint8Array>;
  /** The object's content; failures (NotFound included) arrive as the stream's error. */
  getObjectStream(bucket: string, key: string): Readable;
  /** null if the object does not exist; NotFound if the bucket does not. */
  headObject(bucket: string, key: string): Promise<ObjectHead | null>;
  listObjects(bucket: string, options?: ListOptions): Promise<ListResult>;
  /** Deleting a missing object succeeds, as on S3. NotFound if the bucket does not exist. */
  deleteObject(bucket: string, key: string): Promise<void>;
  /** null if the bucket does not exist. */
  headBucket(bucket: string): Promise<BucketHead | null>;
  /**
   * The object's facts and content (or the bytes of `range`), from one version even while it is
   * being replaced. NotFound if the bucket or the object does not exist; a range that starts past
   * the end (or any range of an empty object) is a ValidationError with `context.unsatisfiableRange`.
   */
  readObject(bucket: string, key: string, range?: ByteRange): Promise<ObjectRead>;
}
