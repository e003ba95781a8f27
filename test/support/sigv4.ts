/**
 * Signing requests the way the AWS SDKs do, for tests that send what an SDK would not (a raw JSON
 * call, a tampered body, a presigned URL): the SDK's own signer, @smithy/signature-v4 (installed
 * with the AWS SDK clients), with Node's SHA-256.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The hash the signer asks for: SHA-256, or HMAC-SHA-256 when given a secret. */
class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

const bytesOf = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === "string"
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export function signer(
  credentials: TestCredentials,
  service: string,
  region = "us-east-1",
  applyChecksum = true,
): SignatureV4 {
  // S3 signs the path encoded once; every other service encodes it again. applyChecksum sends
  // the payload's hash as x-amz-content-sha256.
  return new SignatureV4({
    credentials,
    service,
    region,
    sha256: NodeSha256,
    uriEscapePath: service !== "s3",
    applyChecksum,
  });
}

export interface SignedCall {
  method?: string;
  /** Path and query as they go on the wire (already encoded). */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  service: string;
  /** Signs at this time instead of now (a skewed clock). */
  signingDate?: Date;
  /** Sent instead of the signed body (a body changed on the way). */
  sentBody?: string | Uint8Array;
  /** False: no x-amz-content-sha256 header (default true, as the SDK's signer). */
  applyChecksum?: boolean;
}

/** Signs a request to `baseUrl` with the SDK's signer and sends it with fetch. */
export async function signedFetch(
  baseUrl: string,
  credentials: TestCredentials,
  call: SignedCall,
): Promise<Response> {
  const url = new URL(call.path ?? "/", baseUrl);
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const request = await signer(credentials, call.service, "us-east-1", call.applyChecksum ?? true).sign(
    {
      method: call.method ?? "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host: url.host, ...(call.headers ?? {}) },
      body: call.body,
    },
    { signingDate: call.signingDate },
  );
  const headers = { ...request.headers };
  delete headers["host"];
  return fetch(url, {
    method: request.method,
    headers,
    body: call.sentBody ?? call.body,
  });
}

/** A presigned URL for `path` (S3 style: UNSIGNED-PAYLOAD), valid `expiresIn` seconds from `signingDate`. */
export async function presignedUrl(
  baseUrl: string,
  credentials: TestCredentials,
  options: { method?: string; path: string; expiresIn: number; signingDate?: Date },
): Promise<string> {
  const url = new URL(options.path, baseUrl);
  const presigned = await signer(credentials, "s3").presign(
    {
      method: options.method ?? "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      // As the S3 presigner does: the payload is UNSIGNED-PAYLOAD, the header itself is not signed nor sent.
      headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    },
    {
      expiresIn: options.expiresIn,
      signingDate: options.signingDate,
      unsignableHeaders: new Set(["x-amz-content-sha256"]),
      unhoistableHeaders: new Set(["x-amz-content-sha256"]),
    },
  );
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(presigned.query ?? {})) query.set(name, String(value));
  return `${url.origin}${url.pathname}?${query.toString().replaceAll("+", "%20")}`;
}

/** SigV4 signing key, for chunk signatures (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html). */
export function signingKeyFor(secret: string, date: string, region: string, service: string): Buffer {
  const step = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
  return step(step(step(step(`AWS4${secret}`, date), region), service), "aws4_request");
}

/**
 * The headers that sign a raw S3 request whose path goes out exactly as given (`a/../b` too), as
 * botocore signs S3: the path as sent, the payload UNSIGNED-PAYLOAD unless x-amz-content-sha256 is given.
 */
export async function s3SignedHeaders(
  credentials: TestCredentials,
  request: { method: string; host: string; pathAndQuery: string; headers?: Record<string, string> },
): Promise<Record<string, string>> {
  const queryAt = request.pathAndQuery.indexOf("?");
  const path = queryAt < 0 ? request.pathAndQuery : request.pathAndQuery.slice(0, queryAt);
  const query: Record<string, string> = {};
  if (queryAt >= 0)
    for (const [name, value] of new URLSearchParams(request.pathAndQuery.slice(queryAt + 1)))
      query[name] = value;
  const headers: Record<string, string> = {
    host: request.host,
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    ...(request.headers ?? {}),
  };
  const [hostname, port] = request.host.split(":");
  const signed = await signer(credentials, "s3").sign({
    method: request.method,
    protocol: "http:",
    hostname: hostname!,
    port: Number(port),
    path,
    query,
    headers,
  });
  return signed.headers;
}
