/**
 * SigV4 on the AWS JSON endpoints (Timestream Write/Query, Kinesis): the signature is checked
 * against the body the server received, and a refusal is answered with the exception AWS's JSON
 * services use (UnrecognizedClientException, InvalidSignatureException,
 * MissingAuthenticationTokenException, IncompleteSignatureException), all status 400 as AWS's.
 */
import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { type AuthFailure, isAuthFailure, type KeyLookup, verifySignature } from "../../access/index.js";
import { HourglassError } from "../../errors.js";
import type { AwsEnv } from "./protocol.js";

/** The AWS exception for each reason (docs/api.md, "Authentication"). */
const JSON_AUTH_ERRORS: Record<AuthFailure["reason"], { type: string; prefix: string }> = {
  missing: { type: "MissingAuthenticationTokenException", prefix: "Missing Authentication Token" },
  malformed: {
    type: "IncompleteSignatureException",
    prefix: "The request signature does not conform to AWS standards",
  },
  unsupported: {
    type: "IncompleteSignatureException",
    prefix: "The request signature does not conform to AWS standards",
  },
  unknownKey: {
    type: "UnrecognizedClientException",
    prefix: "The security token included in the request is invalid",
  },
  revokedKey: {
    type: "UnrecognizedClientException",
    prefix: "The security token included in the request is invalid",
  },
  badSignature: {
    type: "InvalidSignatureException",
    prefix: "The request signature we calculated does not match the signature you provided",
  },
  skewed: { type: "InvalidSignatureException", prefix: "" },
  expired: { type: "InvalidSignatureException", prefix: "" },
  payloadMismatch: {
    type: "InvalidSignatureException",
    prefix: "The request signature we calculated does not match the signature you provided",
  },
};

/** An AuthFailure as the JSON services answer it: AWS's exception name and wording, then what to do. */
export function jsonAuthError(failure: AuthFailure): HourglassError {
  const { type, prefix } = JSON_AUTH_ERRORS[failure.reason];
  // The skew message is AWS's own ("Signature expired: … is now earlier than …"): SDKs read it.
  const message = prefix === "" ? failure.message : `${prefix}. ${capitalize(failure.message)}`;
  return new HourglassError(failure.code, message, { context: { awsCode: type }, cause: failure });
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The request target as the client sent it, when the app runs behind startHttpServer. */
export function rawTargetOf(env: unknown): string | undefined {
  const url = (env as { incoming?: { url?: unknown } } | undefined)?.incoming?.url;
  return typeof url === "string" ? url : undefined;
}

/** Checks the signature of `POST /` calls; `keys` null lets every call through (`--no-auth`). */
export function jsonSignatureGuard(keys: KeyLookup | null): MiddlewareHandler<AwsEnv> {
  return async (c, next) => {
    if (keys === null) return next();
    // Hono keeps the bytes: the operation reads the same body as text afterwards.
    const body = new Uint8Array(await c.req.arrayBuffer());
    const url = new URL(c.req.url);
    const target = rawTargetOf(c.env) ?? url.pathname + url.search;
    const queryAt = target.indexOf("?");
    try {
      verifySignature(
        {
          method: c.req.method,
          rawPath: queryAt < 0 ? target : target.slice(0, queryAt),
          rawQuery: queryAt < 0 ? "" : target.slice(queryAt + 1),
          headers: c.req.raw.headers,
          host: url.host,
          s3: false,
          bodySha256: createHash("sha256").update(body).digest("hex"),
        },
        keys,
      );
    } catch (error) {
      throw isAuthFailure(error) ? jsonAuthError(error) : error;
    }
    return next();
  };
}
