/**
 * S3's presigned URLs of Signature Version 2 (`?AWSAccessKeyId=…&Expires=…&Signature=…`), which
 * `aws s3 presign` and boto3's `generate_presigned_url` still make by default: HMAC-SHA1 over the
 * verb, Content-MD5, Content-Type, the expiry, the x-amz-* headers and the resource
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html). Only the query
 * form is taken: SigV2 in the Authorization header is refused like any other scheme.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { KeyLookup } from "./keys.js";
import { AuthFailure, type SignedRequest, type VerifiedRequest } from "./verify.js";

/** Query parameters that are part of the signed resource (S3's sub-resources and response overrides). */
const signedSubresources = new Set([
  "acl",
  "delete",
  "lifecycle",
  "location",
  "logging",
  "notification",
  "partNumber",
  "policy",
  "requestPayment",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  "restore",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
]);

export const isPresignedV2 = (query: URLSearchParams) =>
  query.has("AWSAccessKeyId") && query.has("Signature") && query.has("Expires");

export function verifyPresignedV2(request: SignedRequest, keys: KeyLookup, nowMs: number): VerifiedRequest {
  const query = new URLSearchParams(request.rawQuery);
  const accessKeyId = query.get("AWSAccessKeyId")!;
  const expires = query.get("Expires")!;
  const key = keys.find(accessKeyId);
  if (key === undefined)
    throw new AuthFailure(
      "unknownKey",
      `the access key id ${accessKeyId} is not one this server issued: create one with \`hourglass keys create\``,
      { AWSAccessKeyId: accessKeyId },
    );
  if (key.revokedAt !== undefined)
    throw new AuthFailure("revokedKey", `the access key id ${accessKeyId} was revoked at ${key.revokedAt}`, {
      AWSAccessKeyId: accessKeyId,
    });
  if (!/^\d{1,12}$/.test(expires))
    throw new AuthFailure(
      "malformed",
      `Expires must be a time in epoch seconds, not ${JSON.stringify(expires)}`,
    );
  if (nowMs > Number(expires) * 1000)
    throw new AuthFailure(
      "expired",
      `the presigned URL expired at ${new Date(Number(expires) * 1000).toISOString()}: presign it again`,
      { Expires: new Date(Number(expires) * 1000).toISOString(), ServerTime: new Date(nowMs).toISOString() },
    );

  const amzHeaders = [...request.headers]
    .filter(([name]) => name.startsWith("x-amz-"))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}:${value.trim()}\n`)
    .join("");
  const subresources = [...query]
    .filter(([name]) => signedSubresources.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === "" && !name.startsWith("response-") ? name : `${name}=${value}`));
  const bucketPrefix = request.virtualHostBucket ? `/${request.virtualHostBucket}` : "";
  const resource = `${bucketPrefix}${request.rawPath}${subresources.length > 0 ? `?${subresources.join("&")}` : ""}`;
  const toSign = [
    request.method,
    request.headers.get("content-md5") ?? "",
    request.headers.get("content-type") ?? "",
    expires,
    `${amzHeaders}${resource}`,
  ].join("\n");
  const expected = createHmac("sha1", key.secretAccessKey).update(toSign).digest();
  let provided: Buffer;
  try {
    provided = Buffer.from(query.get("Signature")!, "base64");
  } catch {
    provided = Buffer.alloc(0);
  }
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected))
    throw new AuthFailure(
      "badSignature",
      `sign with the secret access key issued with ${accessKeyId} (Signature Version 2 presigned URL)`,
      { AWSAccessKeyId: accessKeyId, StringToSign: toSign, SignatureProvided: query.get("Signature")! },
    );
  return {
    key,
    scope: { date: "", region: "", service: "s3" },
    amzDate: "",
    signature: "",
    signingKey: Buffer.alloc(0),
    payloadHash: "UNSIGNED-PAYLOAD",
    presigned: true,
  };
}
