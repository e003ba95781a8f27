/** What every S3 operation handler gets, and the helpers they share to answer. */
import type { VerifiedRequest } from "../../../access/index.js";
import { isHourglassError } from "../../../errors.js";
import {
  checkBucketName,
  checkKey,
  type Lake,
  type MultipartUploads,
  maxKeyBytes,
  type ObjectHead,
} from "../../../lake/index.js";
import type { S3Address } from "./addressing.js";
import { s3Error } from "./errors.js";

export interface S3Context {
  request: Request;
  address: S3Address;
  lake: Lake;
  uploads: MultipartUploads;
  requestId: string;
  /** The checked signature (null with `--no-auth`): the body is verified against it as it streams. */
  verified: VerifiedRequest | null;
}

/** A bucket operation's context: the bucket is named and valid. */
export interface BucketContext extends S3Context {
  bucket: string;
}

/** An object operation's context: the key is named and acceptable to the lake's rules. */
export interface ObjectContext extends BucketContext {
  key: string;
}

export function checkS3BucketName(bucket: string): string {
  try {
    return checkBucketName(bucket);
  } catch (error) {
    if (isHourglassError(error, "ValidationError"))
      throw s3Error("InvalidBucketName", error.message, { bucket });
    throw error;
  }
}

/**
 * S3 refuses keys over 1024 bytes (KeyTooLongError). The lake also refuses keys that could leave
 * its folder (a `..` segment, a leading `/`): S3 would take them, Hourglass answers 400
 * InvalidArgument naming the key.
 */
export function checkS3Key(key: string, bucket: string): string {
  if (Buffer.byteLength(key, "utf8") > maxKeyBytes)
    throw s3Error(
      "KeyTooLongError",
      `the key is ${Buffer.byteLength(key, "utf8")} bytes long: at most ${maxKeyBytes}`,
      {
        bucket,
      },
    );
  try {
    return checkKey(key);
  } catch (error) {
    if (isHourglassError(error, "ValidationError"))
      throw s3Error("InvalidArgument", `${error.message} (Hourglass's lake refuses such keys)`, {
        bucket,
        key,
      });
    throw error;
  }
}

export function xmlResponse(xml: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(xml, { status, headers: { "content-type": "application/xml", ...headers } });
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/** S3 quotes ETags in headers and in XML. */
export const quoted = (etag: string) => `"${etag}"`;

/** User metadata from the request's x-amz-meta-* headers (names lowercase, as Headers has them). */
export function metadataFromHeaders(headers: Headers): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-amz-meta-") && name.length > "x-amz-meta-".length)
      metadata[name.slice("x-amz-meta-".length)] = value;
  }
  return metadata;
}

/** Content-Type, ETag, Last-Modified (RFC 1123), Accept-Ranges and x-amz-meta-* of an object. */
export function objectHeaders(head: ObjectHead): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": head.contentType,
    etag: quoted(head.etag),
    "last-modified": head.lastModified.toUTCString(),
    "accept-ranges": "bytes",
  };
  for (const [name, value] of Object.entries(head.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

/** A non-negative integer query parameter, or `fallback` when absent; InvalidArgument otherwise. */
export function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d{1,9}$/.test(raw))
    throw s3Error("InvalidArgument", `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}
