/**
 * AWS Signature Version 4, the arithmetic: canonical request, string to sign, signing key and
 * signature, as https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * describes them. Pure functions over strings: no clock, no key store, no HTTP objects.
 *
 * One rule differs by service: S3 puts each path segment in the canonical URI encoded once (the
 * key as the client encoded it), every other service encodes the already-encoded path again.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/** SHA-256 of nothing, hex: the payload hash of an empty body and of every chunk's "previous headers". */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export const sha256Hex = (data: string | Uint8Array): string =>
  createHash("sha256").update(data).digest("hex");
const hmac = (key: Uint8Array | string, data: string): Buffer =>
  createHmac("sha256", key).update(data).digest();

/** RFC 3986 unreserved characters stay, everything else is %XX (uppercase hex) of its UTF-8 bytes. */
export function uriEncode(text: string, keepSlash = false): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch) || (keepSlash && ch === "/")) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Decodes %XX escapes; a malformed escape is kept as it is (it was then signed as such). */
function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The canonical URI of a path as the client sent it (still percent-encoded). S3: each segment
 * decoded and encoded once, nothing normalised (`a/../b` is a key of its own). Other services:
 * the path normalised (`.`/`..`, repeated slashes) and each segment encoded again, as their
 * signers do.
 */
export function canonicalUri(rawPath: string, s3: boolean): string {
  const path = rawPath === "" ? "/" : rawPath;
  if (s3)
    return path
      .split("/")
      .map((segment) => uriEncode(percentDecode(segment)))
      .join("/");
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const joined = `/${segments.map((segment) => uriEncode(segment)).join("/")}`;
  return path.endsWith("/") && joined !== "/" ? `${joined}/` : joined;
}

/**
 * The canonical query string of a raw query (without `?`): every parameter decoded and encoded
 * by AWS's rules, sorted by name then value; `leaveOut` names parameters that are not signed
 * (a presigned URL's X-Amz-Signature).
 */
export function canonicalQuery(rawQuery: string, leaveOut?: string): string {
  if (rawQuery === "") return "";
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = uriEncode(percentDecode(eq < 0 ? part : part.slice(0, eq)));
    const value = eq < 0 ? "" : uriEncode(percentDecode(part.slice(eq + 1)));
    if (leaveOut !== undefined && name === leaveOut) continue;
    pairs.push([name, value]);
  }
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

/** `name:value\n` for each signed header, values trimmed and inner runs of spaces made one. */
export function canonicalHeaders(
  signedHeaders: readonly string[],
  headerValue: (name: string) => string | null,
): string {
  return signedHeaders
    .map((name) => `${name}:${(headerValue(name) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  canonicalHeaders: string;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders,
    parts.signedHeaders.join(";"),
    parts.payloadHash,
  ].join("\n");
}

/** `<date>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  date: string;
  region: string;
  service: string;
}

export const scopeText = (scope: CredentialScope) =>
  `${scope.date}/${scope.region}/${scope.service}/aws4_request`;

export function stringToSign(amzDate: string, scope: CredentialScope, canonical: string): string {
  return [ALGORITHM, amzDate, scopeText(scope), sha256Hex(canonical)].join("\n");
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, scope: CredentialScope): Buffer {
  const dateKey = hmac(`AWS4${secret}`, scope.date);
  return hmac(hmac(hmac(dateKey, scope.region), scope.service), "aws4_request");
}

export const signatureOf = (key: Uint8Array, toSign: string): string => hmac(key, toSign).toString("hex");

/**
 * The string to sign of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): each chunk's
 * signature covers its bytes and the previous chunk's signature (the seed signature for the first).
 */
export function chunkStringToSign(
  amzDate: string,
  scope: CredentialScope,
  previousSignature: string,
  chunkSha256: string,
): string {
  return [
    "AWS4-HMAC-SHA256-PAYLOAD",
    amzDate,
    scopeText(scope),
    previousSignature,
    EMPTY_SHA256,
    chunkSha256,
  ].join("\n");
}

/** The string to sign of the trailer of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body. */
export function trailerStringToSign(
  amzDate: string,
  scope: CredentialScope,
  previousSignature: string,
  trailerSha256: string,
): string {
  return ["AWS4-HMAC-SHA256-TRAILER", amzDate, scopeText(scope), previousSignature, trailerSha256].join("\n");
}

/** Compares two hex signatures in time that does not depend on where they differ. */
export function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(provided.toLowerCase(), "utf8");
  // Lengths differ only for a malformed signature: no secret leaks through that answer's timing.
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `20130524T000000Z` as epoch milliseconds, or null. */
export function parseAmzDate(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? null : ms;
}

/** Epoch milliseconds as `20130524T000000Z`. */
export const formatAmzDate = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
