/** Object operations: PutObject, GetObject (ranges), HeadObject, DeleteObject, CopyObject. */
import { Readable } from "node:stream";
import { type ByteRange, copyObject, type ObjectHead, resolveRange } from "../../../lake/index.js";
import { requestBody } from "./body.js";
import { requireBucket } from "./buckets.js";
import {
  checkS3BucketName,
  checkS3Key,
  emptyResponse,
  metadataFromHeaders,
  type ObjectContext,
  objectHeaders,
  quoted,
  xmlResponse,
} from "./context.js";
import { s3Error } from "./errors.js";
import { xmlDocument } from "./xml.js";

/**
 * The Range header's one range: `bytes=a-b`, `bytes=a-` or `bytes=-n`. Anything else (several
 * ranges, another unit, a malformed spec) is ignored and the whole object served, as HTTP allows
 * and S3 does.
 */
export function parseRangeHeader(value: string | null): ByteRange | undefined {
  if (value === null) return undefined;
  const match = value.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") return { suffix: Number(last) };
  const start = Number(first);
  if (last === "") return { start };
  const end = Number(last);
  return end < start ? undefined : { start, end };
}

/** The body's content type from the request; absent means the lake's default (application/octet-stream). */
function contentTypeOf(request: Request): string | undefined {
  const value = request.headers.get("content-type");
  return value === null || value === "" ? undefined : value;
}

export async function putObject(context: ObjectContext): Promise<Response> {
  const result = await context.lake.putObject(
    context.bucket,
    context.key,
    requestBody(context.request, true, context.verified),
    {
      contentType: contentTypeOf(context.request),
      metadata: metadataFromHeaders(context.request.headers),
    },
  );
  return emptyResponse(200, { etag: quoted(result.etag) });
}

/**
 * If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since, in RFC 9110's order:
 * 412 or 304 when a condition fails, null when the request goes on.
 */
function conditionalAnswer(request: Request, head: ObjectHead): Response | null {
  const etag = quoted(head.etag);
  const matches = (list: string) =>
    list.split(",").some((tag) => {
      const t = tag.trim();
      return t === "*" || t === etag || t === head.etag;
    });
  const modifiedSeconds = Math.floor(head.lastModified.getTime() / 1000);
  const dateOf = (value: string | null) => {
    const ms = value === null ? Number.NaN : Date.parse(value);
    return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
  };
  const ifMatch = request.headers.get("if-match");
  const ifNoneMatch = request.headers.get("if-none-match");
  const unmodifiedSince = dateOf(request.headers.get("if-unmodified-since"));
  const modifiedSince = dateOf(request.headers.get("if-modified-since"));
  const notModified = () => emptyResponse(304, { etag, "last-modified": head.lastModified.toUTCString() });
  if (ifMatch !== null && !matches(ifMatch))
    throw s3Error(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold (If-Match)",
    );
  if (ifMatch === null && unmodifiedSince !== null && modifiedSeconds > unmodifiedSince)
    throw s3Error(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold (If-Unmodified-Since)",
    );
  if (ifNoneMatch !== null) {
    if (matches(ifNoneMatch)) return notModified();
  } else if (modifiedSince !== null && modifiedSeconds <= modifiedSince) {
    return notModified();
  }
  return null;
}

/** `response-content-type` and its siblings override the answer's headers, as S3 lets presigned URLs do. */
function responseOverrides(query: URLSearchParams): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const name of [
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
  ]) {
    const value = query.get(`response-${name}`);
    if (value !== null) overrides[name] = value;
  }
  return overrides;
}

export async function getObject(context: ObjectContext): Promise<Response> {
  const range = parseRangeHeader(context.request.headers.get("range"));
  const read = await context.lake.readObject(context.bucket, context.key, range);
  const { head } = read;
  let conditional: Response | null;
  try {
    conditional = conditionalAnswer(context.request, head);
  } catch (error) {
    read.body.destroy();
    throw error;
  }
  if (conditional !== null) {
    read.body.destroy();
    return conditional;
  }
  const headers = { ...objectHeaders(head), ...responseOverrides(context.address.query) };
  const body = Readable.toWeb(read.body) as unknown as ReadableStream<Uint8Array>;
  if (read.range === undefined) {
    return new Response(body, { status: 200, headers: { ...headers, "content-length": String(head.size) } });
  }
  const { start, end } = read.range;
  return new Response(body, {
    status: 206,
    headers: {
      ...headers,
      "content-length": String(end - start + 1),
      "content-range": `bytes ${start}-${end}/${head.size}`,
    },
  });
}

export async function headObject(context: ObjectContext): Promise<Response> {
  const head = await context.lake.headObject(context.bucket, context.key);
  if (head === null)
    throw s3Error("NoSuchKey", `object ${context.key} does not exist`, {
      bucket: context.bucket,
      key: context.key,
    });
  const conditional = conditionalAnswer(context.request, head);
  if (conditional !== null) return conditional;
  const headers = objectHeaders(head);
  const range = parseRangeHeader(context.request.headers.get("range"));
  if (range === undefined) return emptyResponse(200, { ...headers, "content-length": String(head.size) });
  const span = resolveRange(range, head.size);
  if (span === null)
    throw s3Error("InvalidRange", "the requested range is not satisfiable", { key: context.key });
  return emptyResponse(206, {
    ...headers,
    "content-length": String(span.end - span.start + 1),
    "content-range": `bytes ${span.start}-${span.end}/${head.size}`,
  });
}

export async function deleteObject(context: ObjectContext): Promise<Response> {
  await context.lake.deleteObject(context.bucket, context.key);
  return emptyResponse(204);
}

/** `x-amz-copy-source`: `bucket/key` or `/bucket/key`, percent-encoded, maybe with `?versionId=`. */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const withoutVersion = value.replace(/\?versionId=[^&]*$/, "");
  const trimmed = withoutVersion.startsWith("/") ? withoutVersion.slice(1) : withoutVersion;
  const slash = trimmed.indexOf("/");
  if (slash <= 0 || slash === trimmed.length - 1)
    throw s3Error("InvalidArgument", `x-amz-copy-source ${JSON.stringify(value)} must be <bucket>/<key>`);
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(trimmed.slice(0, slash));
    key = decodeURIComponent(trimmed.slice(slash + 1));
  } catch {
    throw s3Error(
      "InvalidArgument",
      `x-amz-copy-source ${JSON.stringify(value)} is not valid percent-encoding`,
    );
  }
  checkS3BucketName(bucket);
  checkS3Key(key, bucket);
  return { bucket, key };
}

export async function copyObjectOperation(context: ObjectContext, copySource: string): Promise<Response> {
  const source = parseCopySource(copySource);
  const { request } = context;
  const directive = (request.headers.get("x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE")
    throw s3Error("InvalidArgument", `x-amz-metadata-directive must be COPY or REPLACE, not ${directive}`);
  if (directive === "COPY" && source.bucket === context.bucket && source.key === context.key)
    throw s3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata (send x-amz-metadata-directive: REPLACE)",
      { bucket: context.bucket, key: context.key },
    );
  await requireBucket(context);
  const replace =
    directive === "REPLACE"
      ? { contentType: contentTypeOf(request), metadata: metadataFromHeaders(request.headers) }
      : undefined;
  const result = await copyObject(
    context.lake,
    source,
    { bucket: context.bucket, key: context.key },
    replace,
  );
  const head = await context.lake.headObject(context.bucket, context.key);
  return xmlResponse(
    xmlDocument("CopyObjectResult", [
      ["LastModified", head?.lastModified ?? new Date()],
      ["ETag", quoted(result.etag)],
    ]),
  );
}
