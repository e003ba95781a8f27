/**
 * Copying an object within a lake (or between buckets): the source is read from one version and
 * streamed into an ordinary put, so the copy is committed whole like any put, and gets its own
 * MD5 etag (as S3 gives a copy, even of a multipart object).
 */
import type { Lake, PutOptions, PutResult } from "./types.js";

export interface ObjectAddress {
  bucket: string;
  key: string;
}

/**
 * Copies `from` to `to`. Without `replace`, the copy keeps the source's content type and metadata;
 * with it, it takes those given instead. NotFound if the source (or either bucket) does not exist.
 */
export async function copyObject(
  lake: Lake,
  from: ObjectAddress,
  to: ObjectAddress,
  replace?: Pick<PutOptions, "contentType" | "metadata">,
): Promise<PutResult> {
  const source = await lake.readObject(from.bucket, from.key);
  const options: PutOptions = replace ?? {
    contentType: source.head.contentType,
    metadata: source.head.metadata,
  };
  try {
    return await lake.putObject(to.bucket, to.key, source.body, options);
  } finally {
    source.body.destroy();
  }
}
