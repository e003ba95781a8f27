/**
 * SigV4 on the S3 endpoint: header-signed and presigned requests, with S3's rules (the path
 * encoded once; the payload hash from x-amz-content-sha256, or UNSIGNED-PAYLOAD for a presigned
 * URL). The body is checked while it streams (body.ts): a hex x-amz-content-sha256 against its
 * SHA-256, STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk by chunk; a mismatch fails the upload, which
 * then commits nothing. Refusals are S3's XML errors (InvalidAccessKeyId, SignatureDoesNotMatch,
 * RequestTimeTooSkewed, AccessDenied, …).
 */
import {
  type AuthFailure,
  type KeyLookup,
  type VerifiedRequest,
  verifySignature,
} from "../../../access/index.js";
import type { S3Address } from "./addressing.js";
import { type S3ErrorCode, s3Error } from "./errors.js";

/** Verifies an S3 request; null when no keys are checked (`--no-auth`). Throws AuthFailure. */
export function verifyS3Request(
  request: Request,
  address: S3Address,
  keys: KeyLookup | null,
): VerifiedRequest | null {
  if (keys === null) return null;
  return verifySignature(
    {
      method: request.method,
      rawPath: address.resource,
      rawQuery: address.rawQuery,
      headers: request.headers,
      host: new URL(request.url).host,
      s3: true,
      virtualHostBucket: address.virtualHost ? address.bucket : null,
    },
    keys,
  );
}

/** An AuthFailure as S3 answers it: S3's code and wording, then what to do, and S3's detail elements. */
export function s3AuthError(failure: AuthFailure) {
  const [code, wording] = s3CodeFor(failure);
  return s3Error(code, `${wording}. ${failure.message.charAt(0).toUpperCase()}${failure.message.slice(1)}`, {
    s3Details: failure.details,
  });
}

function s3CodeFor(failure: AuthFailure): [S3ErrorCode, string] {
  if (failure.s3Code === "InvalidRequest") return ["InvalidRequest", "Invalid request"];
  if (failure.s3Code === "InvalidArgument") return ["InvalidArgument", "Invalid argument"];
  if (failure.s3Code === "AuthorizationQueryParametersError")
    return ["AuthorizationQueryParametersError", "Error parsing the presigned URL's X-Amz-* parameters"];
  switch (failure.reason) {
    case "missing":
      return ["AccessDenied", "Access Denied"];
    case "malformed":
      return ["AuthorizationHeaderMalformed", "The authorization header is malformed"];
    case "unsupported":
      return [
        "InvalidRequest",
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256",
      ];
    case "unknownKey":
    case "revokedKey":
      return ["InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records"];
    case "badSignature":
      return [
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method",
      ];
    case "skewed":
      return [
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large",
      ];
    case "expired":
      return ["AccessDenied", "Request has expired"];
    case "payloadMismatch":
      return [
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed",
      ];
  }
}
