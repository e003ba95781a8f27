/**
 * Which bucket and key an S3 request names, and whether a request is S3's at all.
 *
 * Clients address a bucket in the path (`http://127.0.0.1:8080/bucket/key`, "path style") or in
 * the host name (`http://bucket.localhost:8080/key` or `bucket.s3.<anything>`, "virtual-host
 * style"). The key is read from the request target as the client sent it, before URL
 * normalisation, which would turn `a/../b` into `b` and silently write another key.
 */
import { s3Error } from "./errors.js";

export interface S3Address {
  bucket: string | null;
  key: string | null;
  virtualHost: boolean;
  query: URLSearchParams;
  /** The query as the client sent it (without `?`), for the signature. */
  rawQuery: string;
  /** The path as the client sent it, for error bodies and the signature. */
  resource: string;
}

const ipv4Pattern = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The bucket a virtual-host-style Host names: `<bucket>.s3.<domain>` (AWS's own shape, e.g.
 * `b.s3.us-east-1.amazonaws.com` or `b.s3.localhost`) or `<bucket>.localhost`. Any other host
 * (an address, `localhost`, the server's own name) is path style.
 */
export function bucketFromHost(hostHeader: string | null): string | null {
  if (hostHeader === null || hostHeader === "") return null;
  if (hostHeader.startsWith("[")) return null; // an IPv6 address
  const host = hostHeader.replace(/:\d*$/, "").toLowerCase().replace(/\.$/, "");
  if (ipv4Pattern.test(host)) return null;
  const s3Label = host.indexOf(".s3.");
  if (s3Label > 0) return host.slice(0, s3Label);
  const legacyRegional = host.match(/^(.+)\.s3-[a-z0-9-]+\.amazonaws\.com$/);
  if (legacyRegional) return legacyRegional[1]!;
  if (host.endsWith(".localhost")) {
    const bucket = host.slice(0, -".localhost".length);
    return bucket === "s3" ? null : bucket;
  }
  return null;
}

/**
 * Whether a request that other routes might also serve is an S3 client's: it names a bucket in
 * its host, or carries what only S3 signers send (x-amz-content-sha256, or a presigned URL's
 * query). AWS JSON calls (X-Amz-Target) and Smithy RPC v2 CBOR calls (smithy-protocol) are never S3's.
 */
export function isS3ClientRequest(request: Request): boolean {
  if (request.headers.has("x-amz-target") || request.headers.has("smithy-protocol")) return false;
  if (bucketFromHost(request.headers.get("host") ?? new URL(request.url).host) !== null) return true;
  if (request.headers.has("x-amz-content-sha256")) return true;
  const query = new URL(request.url).searchParams;
  return (
    query.has("X-Amz-Signature") ||
    query.has("X-Amz-Credential") ||
    (query.has("AWSAccessKeyId") && query.has("Signature"))
  );
}

function decodePart(raw: string, resource: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw s3Error("InvalidURI", `the path ${resource} is not valid percent-encoding`);
  }
}

/**
 * Parses an S3 request. `rawTarget` is the request target as received (`/bucket/a%2Fb?x=1`);
 * without it (a request built in process), the URL's path serves.
 */
export function s3AddressOf(request: Request, rawTarget?: string): S3Address {
  const url = new URL(request.url);
  const target = rawTarget?.startsWith("/") ? rawTarget : url.pathname + url.search;
  const queryAt = target.indexOf("?");
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? "" : target.slice(queryAt + 1);
  const query = new URLSearchParams(rawQuery);
  const hostBucket = bucketFromHost(request.headers.get("host") ?? url.host);
  const resource = rawPath;
  const path = rawPath.slice(1);
  if (hostBucket !== null) {
    return {
      bucket: hostBucket,
      key: path === "" ? null : decodePart(path, resource),
      virtualHost: true,
      query,
      rawQuery,
      resource,
    };
  }
  if (path === "") return { bucket: null, key: null, virtualHost: false, query, rawQuery, resource };
  const slash = path.indexOf("/");
  const bucket = decodePart(slash < 0 ? path : path.slice(0, slash), resource);
  const rawKey = slash < 0 ? "" : path.slice(slash + 1);
  return {
    bucket,
    key: rawKey === "" ? null : decodePart(rawKey, resource),
    virtualHost: false,
    query,
    rawQuery,
    resource,
  };
}
