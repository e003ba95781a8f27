/**
 * Where things live under the lake's root folder:
 *
 *   <root>/<bucket>/<key>        the objects (a key's `/` are folders)
 *   <root>/.meta/<bucket>/<key>  each object's sidecar (etag, content type), a cache keyed by inode
 *   <root>/.tmp/                 files being written; renamed into place when complete
 *
 * Temp files and sidecars live outside the bucket folders, so listing a bucket never shows them,
 * and .tmp is on the same filesystem as the buckets, so committing is a rename.
 */
import path from "node:path";
import { validationError } from "../../errors.js";
import { checkBucketName, checkKey } from "../names.js";

/** Most filesystems refuse longer file names. */
const maxSegmentBytes = 255;

export interface Layout {
  root: string;
  tempDir: string;
  bucketDir(bucket: string): string;
  metaBucketDir(bucket: string): string;
}

export function layoutOf(rootDir: string): Layout {
  const root = path.resolve(rootDir);
  return {
    root,
    tempDir: path.join(root, ".tmp"),
    bucketDir: (bucket) => path.join(root, checkBucketName(bucket)),
    metaBucketDir: (bucket) => path.join(root, ".meta", checkBucketName(bucket)),
  };
}

/**
 * A key's folder segments. Beyond the rules every lake applies, a folder cannot hold keys whose
 * segments are empty (`a//b`, `a/`) or `.`, which would alias other keys, nor over-long names.
 */
export function keySegments(key: string): string[] {
  checkKey(key);
  const segments = key.split("/");
  for (const segment of segments) {
    const refuse = (why: string) =>
      validationError(`invalid object key ${JSON.stringify(key)}: ${why} (not supported by the local lake)`, {
        key,
      });
    if (segment === "") throw refuse("it has an empty segment");
    if (segment === ".") throw refuse("it has a . segment");
    if (Buffer.byteLength(segment, "utf8") > maxSegmentBytes)
      throw refuse(`a segment is longer than ${maxSegmentBytes} bytes`);
  }
  return segments;
}

/** Segments of a listing prefix's folder part, or null if no key could be under it. */
export function prefixFolderSegments(prefix: string): string[] | null {
  const slash = prefix.lastIndexOf("/");
  if (slash < 0) return [];
  const segments = prefix.slice(0, slash).split("/");
  const valid = segments.every(
    (segment) =>
      segment !== "" &&
      segment !== "." &&
      segment !== ".." &&
      !segment.includes("\\") &&
      !segment.includes("\0"),
  );
  return valid ? segments : null;
}
