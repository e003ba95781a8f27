/**
 * Checks the SigV4 signature of a request, in the Authorization header or in a presigned URL's
 * query (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Signature), against the keys Hourglass issued. A refusal is an AuthFailure whose `reason`
 * each endpoint turns into its service's error (src/api/aws/auth.ts, src/api/aws/s3/auth.ts).
 *
 * The wall clock, not the store's clock, judges skew and expiry: clients sign with real time,
 * whatever time a test or a simulated demo gives the data.
 */
import { HourglassError } from "../errors.js";
import type { AccessKey, KeyLookup } from "./keys.js";
import { isPresignedV2, verifyPresignedV2 } from "./sigv2-query.js";
import {
  ALGORITHM,
  type CredentialScope,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  EMPTY_SHA256,
  parseAmzDate,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  sameSignature,
  signatureOf,
  signingKey,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from "./sigv4.js";

/** AWS allows 15 minutes between the request's date and the server's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** A presigned URL lives at most 7 days (X-Amz-Expires ≤ 604800). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

export type AuthFailureReason =
  | "missing" // no signature at all
  | "malformed" // an Authorization header or presigned query that is not SigV4's shape
  | "unsupported" // another signing scheme (SigV2, SigV4a)
  | "unknownKey"
  | "revokedKey"
  | "badSignature"
  | "skewed" // the request's date is more than 15 minutes from the server's clock
  | "expired" // a presigned URL past its X-Amz-Expires
  | "payloadMismatch"; // x-amz-content-sha256 is not the body's hash

/** A refused signature: the reason picks each service's error code, `details` fill its body. */
export class AuthFailure extends HourglassError {
  readonly reason: AuthFailureReason;
  readonly details: Record<string, string>;
  /** Where S3 names this failure apart from its reason's usual code (a missing x-amz-content-sha256). */
  readonly s3Code: string | undefined;
  constructor(
    reason: AuthFailureReason,
    message: string,
    details: Record<string, string> = {},
    s3Code?: string,
  ) {
    super(reason === "malformed" || reason === "unsupported" ? "ValidationError" : "AccessDenied", message, {
      context: { authFailure: reason },
    });
    this.reason = reason;
    this.details = details;
    this.s3Code = s3Code;
  }
}

export const isAuthFailure = (value: unknown): value is AuthFailure => value instanceof AuthFailure;

/** A request as the verifier needs it: what the client sent, before any normalisation. */
export interface SignedRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  rawPath: string;
  /** The query as sent, without `?`. */
  rawQuery: string;
  headers: Headers;
  /** Host (or :authority over HTTP/2, which has no Host header). */
  host: string;
  /** S3 signs the path encoded once and carries its payload hash in x-amz-content-sha256. */
  s3: boolean;
  /** Other services: the SHA-256 (hex) of the body the server received. */
  bodySha256?: string;
  /** S3, virtual-host style: the bucket the Host names (SigV2 signs it as part of the resource). */
  virtualHostBucket?: string | null;
}

/** A request whose signature holds. The signing key and seed signature verify aws-chunked chunks. */
export interface VerifiedRequest {
  key: AccessKey;
  scope: CredentialScope;
  amzDate: string;
  signature: string;
  signingKey: Buffer;
  /** x-amz-content-sha256 as signed: a hex hash to check the body against, or a mode. */
  payloadHash: string;
  presigned: boolean;
}

interface SignatureClaim {
  accessKeyId: string;
  scope: CredentialScope;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  expiresSeconds?: number;
  presigned: boolean;
}

const credentialPattern = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;

export function verifySignature(
  request: SignedRequest,
  keys: KeyLookup,
  nowMs = Date.now(),
): VerifiedRequest {
  // `aws s3 presign` and boto3's generate_presigned_url still make Signature Version 2 URLs.
  if (
    request.s3 &&
    !request.headers.has("authorization") &&
    isPresignedV2(new URLSearchParams(request.rawQuery))
  )
    return verifyPresignedV2(request, keys, nowMs);
  const claim = readClaim(request);
  const key = keys.find(claim.accessKeyId);
  if (key === undefined)
    throw new AuthFailure(
      "unknownKey",
      `the access key id ${claim.accessKeyId} is not one this server issued: create one with \`hourglass keys create\` and sign with it`,
      { AWSAccessKeyId: claim.accessKeyId },
    );
  if (key.revokedAt !== undefined)
    throw new AuthFailure(
      "revokedKey",
      `the access key id ${claim.accessKeyId} was revoked at ${key.revokedAt}: use another key (\`hourglass keys list\`)`,
      { AWSAccessKeyId: claim.accessKeyId },
    );
  checkTime(claim, nowMs);

  const payloadHash = payloadHashOf(request, claim);
  const derived = signingKey(key.secretAccessKey, claim.scope);
  const headers = canonicalHeaders(claim.signedHeaders, (name) =>
    name === "host" || name === ":authority"
      ? (request.headers.get("host") ?? request.host)
      : request.headers.get(name),
  );
  const query = canonicalQuery(request.rawQuery, claim.presigned ? "X-Amz-Signature" : undefined);
  // S3 signers put the path in as they sent it (botocore), or encoded by AWS's rules (the AWS SDK
  // for JavaScript): both are one encoding, and differ only for a client that escapes more than
  // it must (`%2e`, lowercase hex). Both are tried; other services have one canonical path.
  const paths = [canonicalUri(request.rawPath, request.s3)];
  if (request.s3 && request.rawPath !== paths[0]) paths.push(request.rawPath);
  let canonical = "";
  let toSign = "";
  let matched = false;
  for (const path of paths) {
    canonical = canonicalRequest({
      method: request.method,
      canonicalUri: path,
      canonicalQuery: query,
      canonicalHeaders: headers,
      signedHeaders: claim.signedHeaders,
      payloadHash,
    });
    toSign = stringToSign(claim.amzDate, claim.scope, canonical);
    if (sameSignature(signatureOf(derived, toSign), claim.signature)) {
      matched = true;
      break;
    }
  }
  if (!matched)
    throw new AuthFailure(
      "badSignature",
      `sign with the secret access key issued with ${claim.accessKeyId} (\`hourglass keys create\` shows a secret once; a lost one needs a new key), and SigV4's canonical request`,
      {
        AWSAccessKeyId: claim.accessKeyId,
        StringToSign: toSign,
        SignatureProvided: claim.signature,
        CanonicalRequest: canonical,
      },
    );
  // The signature covers the hash the client claimed; a body that differs is caught here when the
  // server already has it (JSON services), and while it streams for S3 (src/api/aws/s3/body.ts).
  const declared = request.headers.get("x-amz-content-sha256");
  if (
    request.bodySha256 !== undefined &&
    declared !== null &&
    /^[0-9a-f]{64}$/i.test(declared) &&
    declared.toLowerCase() !== request.bodySha256
  )
    throw new AuthFailure(
      "payloadMismatch",
      "the x-amz-content-sha256 you provided does not match the SHA-256 of the body received",
      { ClientComputedContentSHA256: declared, S3ComputedContentSHA256: request.bodySha256 },
    );
  return {
    key,
    scope: claim.scope,
    amzDate: claim.amzDate,
    signature: claim.signature.toLowerCase(),
    signingKey: derived,
    payloadHash,
    presigned: claim.presigned,
  };
}

function readClaim(request: SignedRequest): SignatureClaim {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    if (!authorization.startsWith(`${ALGORITHM} `)) {
      const scheme = authorization.split(" ", 1)[0];
      throw new AuthFailure(
        "unsupported",
        `the Authorization header uses ${JSON.stringify(scheme)}: Hourglass takes AWS Signature Version 4 (${ALGORITHM}) only`,
      );
    }
    return headerClaim(request, authorization.slice(ALGORITHM.length + 1));
  }
  const query = new URLSearchParams(request.rawQuery);
  if (query.has("X-Amz-Algorithm") || query.has("X-Amz-Signature") || query.has("X-Amz-Credential"))
    try {
      return presignedClaim(query);
    } catch (error) {
      // S3 names a bad presigned query apart from a bad header.
      if (error instanceof AuthFailure && error.reason === "malformed" && error.s3Code === undefined)
        throw new AuthFailure("malformed", error.message, error.details, "AuthorizationQueryParametersError");
      throw error;
    }
  if (query.has("AWSAccessKeyId") && query.has("Signature"))
    throw new AuthFailure(
      "unsupported",
      "this URL is signed with Signature Version 2: Hourglass takes it for S3 presigned URLs (with Expires) only, Version 4 everywhere",
    );
  throw new AuthFailure(
    "missing",
    'the request is not signed: AWS clients sign with an access key (`hourglass keys create` makes one; docs/api.md, "Authentication")',
  );
}

function headerClaim(request: SignedRequest, rest: string): SignatureClaim {
  const fields = new Map<string, string>();
  for (const part of rest.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined || signedHeaders === undefined || signature === undefined)
    throw new AuthFailure(
      "malformed",
      `the Authorization header must name Credential, SignedHeaders and Signature; it has ${[...fields.keys()].join(", ") || "none of them"}`,
    );
  const amzDate = request.headers.get("x-amz-date") ?? dateHeaderAsAmzDate(request.headers.get("date"));
  if (amzDate === null)
    throw new AuthFailure(
      "malformed",
      "a signed request needs an X-Amz-Date header (or a Date header) with its signing time",
    );
  return {
    ...credentialOf(credential, amzDate),
    signedHeaders: signedHeaderList(signedHeaders),
    signature,
    amzDate,
    presigned: false,
  };
}

function presignedClaim(query: URLSearchParams): SignatureClaim {
  const missing = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
  ].filter((name) => !query.has(name));
  if (missing.length > 0)
    throw new AuthFailure(
      "malformed",
      `the presigned URL lacks ${missing.join(", ")}: sign it with an AWS SDK's presigner`,
    );
  if (query.get("X-Amz-Algorithm") !== ALGORITHM)
    throw new AuthFailure(
      "unsupported",
      `X-Amz-Algorithm is ${JSON.stringify(query.get("X-Amz-Algorithm"))}: only ${ALGORITHM} is taken`,
    );
  const amzDate = query.get("X-Amz-Date")!;
  let expiresSeconds: number | undefined;
  const expires = query.get("X-Amz-Expires");
  if (expires !== null) {
    expiresSeconds = Number(expires);
    if (!/^\d+$/.test(expires) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS)
      throw new AuthFailure(
        "malformed",
        `X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS} (a week), not ${JSON.stringify(expires)}`,
      );
  }
  return {
    ...credentialOf(query.get("X-Amz-Credential")!, amzDate),
    signedHeaders: signedHeaderList(query.get("X-Amz-SignedHeaders")!),
    signature: query.get("X-Amz-Signature")!,
    amzDate,
    expiresSeconds,
    presigned: true,
  };
}

function credentialOf(credential: string, amzDate: string): Pick<SignatureClaim, "accessKeyId" | "scope"> {
  const m = credentialPattern.exec(credential);
  if (!m)
    throw new AuthFailure(
      "malformed",
      `the credential ${JSON.stringify(credential)} is not <access key id>/<yyyymmdd>/<region>/<service>/aws4_request`,
    );
  if (parseAmzDate(amzDate) === null)
    throw new AuthFailure(
      "malformed",
      `the signing time ${JSON.stringify(amzDate)} is not in the form 20210922T130000Z`,
    );
  if (!amzDate.startsWith(m[2]!))
    throw new AuthFailure(
      "malformed",
      `the credential's date ${m[2]} is not the day of the signing time ${amzDate}: sign with the same date in both`,
    );
  return { accessKeyId: m[1]!, scope: { date: m[2]!, region: m[3]!, service: m[4]! } };
}

function signedHeaderList(text: string): string[] {
  const names = text.split(";").map((name) => name.trim().toLowerCase());
  // Over HTTP/2 the AWS SDK for JavaScript v3 signs the :authority pseudo-header in Host's place.
  if (!names.includes("host") && !names.includes(":authority"))
    throw new AuthFailure("malformed", `the signed headers (${text}) must include host`);
  return names;
}

/** A Date header (RFC 1123) as an X-Amz-Date value, for the rare client that signs with it. */
function dateHeaderAsAmzDate(value: string | null): string | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms)
    ? null
    : new Date(ms)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
}

function checkTime(claim: SignatureClaim, nowMs: number): void {
  const signedMs = parseAmzDate(claim.amzDate)!;
  const now = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const details = {
    RequestTime: claim.amzDate,
    ServerTime: now,
    MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
  };
  if (claim.presigned) {
    if (signedMs - nowMs > MAX_CLOCK_SKEW_MS)
      throw new AuthFailure(
        "skewed",
        `the presigned URL was signed at ${claim.amzDate}, more than 15 minutes after this server's time ${now}: check the clock`,
        details,
      );
    const expiresMs = signedMs + (claim.expiresSeconds ?? MAX_PRESIGNED_EXPIRES_SECONDS) * 1000;
    if (nowMs > expiresMs)
      throw new AuthFailure(
        "expired",
        `the presigned URL expired at ${new Date(expiresMs).toISOString()} (signed ${claim.amzDate}, X-Amz-Expires ${claim.expiresSeconds ?? MAX_PRESIGNED_EXPIRES_SECONDS}): presign it again`,
        {
          "X-Amz-Expires": String(claim.expiresSeconds ?? MAX_PRESIGNED_EXPIRES_SECONDS),
          Expires: new Date(expiresMs).toISOString(),
          ServerTime: new Date(nowMs).toISOString(),
        },
      );
    return;
  }
  const fifteen = formatSkewBound(nowMs - MAX_CLOCK_SKEW_MS);
  if (nowMs - signedMs > MAX_CLOCK_SKEW_MS)
    // AWS's own wording, which SDKs parse to correct their clock offset.
    throw new AuthFailure(
      "skewed",
      `Signature expired: ${claim.amzDate} is now earlier than ${fifteen} (${now} - 15 min.)`,
      details,
    );
  if (signedMs - nowMs > MAX_CLOCK_SKEW_MS)
    throw new AuthFailure(
      "skewed",
      `Signature not yet current: ${claim.amzDate} is still later than ${formatSkewBound(nowMs + MAX_CLOCK_SKEW_MS)} (${now} + 15 min.)`,
      details,
    );
}

const formatSkewBound = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/**
 * The payload hash that went into the signature. S3: x-amz-content-sha256 as sent (required with
 * the Authorization header; a presigned URL without it is UNSIGNED-PAYLOAD). Other services: the
 * SHA-256 of the body the server received.
 */
function payloadHashOf(request: SignedRequest, claim: SignatureClaim): string {
  // A presigner may hoist the hash into the query (X-Amz-Content-Sha256) instead of a header.
  const declared =
    request.headers.get("x-amz-content-sha256") ??
    (claim.presigned ? new URLSearchParams(request.rawQuery).get("X-Amz-Content-Sha256") : null);
  if (!request.s3) return request.bodySha256 ?? EMPTY_SHA256;
  if (declared === null) {
    if (claim.presigned) return UNSIGNED_PAYLOAD;
    throw new AuthFailure(
      "malformed",
      "Missing required header for this request: x-amz-content-sha256 (S3 signs the body's SHA-256, or UNSIGNED-PAYLOAD)",
      {},
      "InvalidRequest",
    );
  }
  if (
    declared === UNSIGNED_PAYLOAD ||
    declared === STREAMING_SIGNED ||
    declared === STREAMING_SIGNED_TRAILER ||
    declared === STREAMING_UNSIGNED_TRAILER ||
    /^[0-9a-fA-F]{64}$/.test(declared)
  )
    return declared;
  throw new AuthFailure(
    declared.startsWith("STREAMING-") ? "unsupported" : "malformed",
    `x-amz-content-sha256 is ${JSON.stringify(declared)}: it must be the body's SHA-256 in hex, ${UNSIGNED_PAYLOAD}, ${STREAMING_SIGNED}(-TRAILER) or ${STREAMING_UNSIGNED_TRAILER}`,
    {},
    "InvalidArgument",
  );
}
