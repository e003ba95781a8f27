/**
 * Request bodies as S3 clients send them. Recent SDKs (the AWS SDK for JavaScript v3, boto3 since
 * 1.36, the AWS CLI) send uploads with `Content-Encoding: aws-chunked`: the payload is framed as
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n <bytes> \r\n … 0[;chunk-signature=<sig>]\r\n
 *   [x-amz-checksum-crc32:<base64>\r\n …] \r\n
 *
 * (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
 * and their `-TRAILER` forms), with the decoded length in `x-amz-decoded-content-length` and the
 * checksum in a trailer named by `x-amz-trailer`. This decodes the framing, counts the bytes,
 * and verifies what the request's signature covers (each chunk's signature, or the hex
 * x-amz-content-sha256 of a plain body: src/access/) and the checksum and Content-MD5 when they
 * are given. A mismatch fails the stream, so the put that reads it commits nothing.
 */
import { createHash, type Hash } from "node:crypto";
import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import {
  AuthFailure,
  ChunkSignatureChain,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  type VerifiedRequest,
} from "../../../access/index.js";
import {
  type ChecksumAlgorithm,
  checksumLabel,
  isChecksumAlgorithm,
  type RunningChecksum,
  runningChecksum,
} from "./checksums.js";
import { s3Error } from "./errors.js";

/** A size line or a trailer line longer than this is not aws-chunked framing. */
const maxLineBytes = 4096;
const maxTrailerBytes = 16 * 1024;
const CRLF = Buffer.from("\r\n");
/** S3's limit for one PutObject or one part: 5 GiB. */
export const maxUploadBytes = 5 * 1024 ** 3;

export interface BodyDecoding {
  awsChunked: boolean;
  /** x-amz-decoded-content-length (aws-chunked) or Content-Length: what the body must add up to. */
  expectedBytes?: number;
  /** The checksum to verify, with its value from a header, or from the trailer of the same name. */
  checksum?: { algorithm: ChecksumAlgorithm; expected?: string; fromTrailer: boolean };
  /** Content-MD5, base64. */
  contentMd5?: string;
  /** What the signature says of the body: its SHA-256 (hex), or its chunks' signatures. */
  signed?: { sha256?: string; chunks?: ChunkSignatureChain; trailerSigned: boolean };
}

/** The body checks a verified signature asks for; none for UNSIGNED-PAYLOAD and unsigned trailers. */
export function signedBodyOf(verified: VerifiedRequest | null | undefined): BodyDecoding["signed"] {
  if (!verified) return undefined;
  const hash = verified.payloadHash;
  if (/^[0-9a-fA-F]{64}$/.test(hash)) return { sha256: hash.toLowerCase(), trailerSigned: false };
  if (hash === STREAMING_SIGNED || hash === STREAMING_SIGNED_TRAILER)
    return { chunks: new ChunkSignatureChain(verified), trailerSigned: hash === STREAMING_SIGNED_TRAILER };
  return undefined;
}

/**
 * Reads how the body is encoded from the request's headers. `checksumHeadersAreBody`: false where
 * x-amz-checksum-* headers describe the object, not this body (CompleteMultipartUpload).
 */
export function bodyDecodingOf(headers: Headers, checksumHeadersAreBody = true): BodyDecoding {
  const encoding = (headers.get("content-encoding") ?? "").toLowerCase();
  const contentSha = headers.get("x-amz-content-sha256") ?? "";
  const awsChunked =
    encoding.split(",").some((e) => e.trim() === "aws-chunked") || contentSha.startsWith("STREAMING-");
  const lengthHeader = awsChunked
    ? headers.get("x-amz-decoded-content-length")
    : headers.get("content-length");
  let expectedBytes: number | undefined;
  if (lengthHeader !== null && lengthHeader !== "") {
    expectedBytes = Number(lengthHeader);
    if (!Number.isSafeInteger(expectedBytes) || expectedBytes < 0)
      throw s3Error("InvalidArgument", `the body length ${JSON.stringify(lengthHeader)} is not a byte count`);
    if (expectedBytes > maxUploadBytes) throw tooLarge(expectedBytes);
  }

  let checksum: BodyDecoding["checksum"];
  for (const [name, value] of checksumHeadersAreBody ? headers : []) {
    const algorithm = name.toLowerCase().match(/^x-amz-checksum-([a-z0-9]+)$/)?.[1];
    if (algorithm === undefined || algorithm === "type" || algorithm === "algorithm" || algorithm === "mode")
      continue;
    if (!isChecksumAlgorithm(algorithm))
      throw s3Error("InvalidRequest", `checksum header ${name} names an algorithm S3 does not have`);
    checksum = { algorithm, expected: value.trim(), fromTrailer: false };
  }
  const trailer = (headers.get("x-amz-trailer") ?? "").trim().toLowerCase();
  if (trailer !== "") {
    const algorithm = trailer.match(/^x-amz-checksum-([a-z0-9]+)$/)?.[1];
    if (algorithm === undefined || !isChecksumAlgorithm(algorithm))
      throw s3Error(
        "InvalidRequest",
        `x-amz-trailer names ${JSON.stringify(trailer)}, not a checksum S3 has`,
      );
    if (!awsChunked)
      throw s3Error(
        "InvalidRequest",
        "x-amz-trailer needs an aws-chunked body (Content-Encoding: aws-chunked)",
      );
    checksum = { algorithm, fromTrailer: true };
  }
  const contentMd5 = headers.get("content-md5") ?? undefined;
  if (contentMd5 !== undefined && Buffer.from(contentMd5, "base64").length !== 16)
    throw s3Error("InvalidDigest", `Content-MD5 ${JSON.stringify(contentMd5)} is not the base64 of an MD5`);
  return { awsChunked, expectedBytes, checksum, contentMd5 };
}

type State = "size" | "data" | "data-end" | "trailer" | "done";

/** Decodes (aws-chunked) and verifies (length, checksum, Content-MD5) a body on its way through. */
export class S3BodyDecoder extends Transform {
  readonly #decoding: BodyDecoding;
  readonly #checksum: RunningChecksum | null;
  readonly #md5: Hash | null;
  /** SHA-256 of the body as received, when the signature names it. */
  readonly #rawSha256: Hash | null;
  readonly #chunks: ChunkSignatureChain | null;
  #bytes = 0;
  #state: State = "size";
  #remaining = 0;
  #pending: Buffer = Buffer.alloc(0);
  #trailerBytes = 0;
  readonly #trailers = new Map<string, string>();
  readonly #trailerLines: string[] = [];

  constructor(decoding: BodyDecoding) {
    super();
    this.#decoding = decoding;
    this.#checksum = decoding.checksum ? runningChecksum(decoding.checksum.algorithm) : null;
    this.#md5 = decoding.contentMd5 === undefined ? null : createHash("md5");
    this.#rawSha256 = decoding.signed?.sha256 === undefined ? null : createHash("sha256");
    this.#chunks = decoding.signed?.chunks ?? null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.#rawSha256?.update(chunk);
      if (this.#decoding.awsChunked) this.#parse(chunk);
      else this.#emit(chunk);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#finish();
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  #emit(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#bytes += bytes.length;
    if (this.#bytes > maxUploadBytes) throw tooLarge(this.#bytes);
    const expected = this.#decoding.expectedBytes;
    if (expected !== undefined && this.#bytes > expected)
      throw s3Error("InvalidRequest", `the body is longer than the ${expected} bytes its headers announce`);
    this.#checksum?.update(bytes);
    this.#md5?.update(bytes);
    this.#chunks?.update(bytes);
    this.push(bytes);
  }

  #parse(chunk: Buffer): void {
    const buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    let at = 0;
    while (at < buffer.length) {
      switch (this.#state) {
        case "data": {
          const take = Math.min(this.#remaining, buffer.length - at);
          this.#emit(buffer.subarray(at, at + take));
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = "data-end";
          break;
        }
        case "data-end": {
          if (buffer.length - at < 2) {
            this.#pending = Buffer.from(buffer.subarray(at));
            return;
          }
          if (buffer[at] !== 13 || buffer[at + 1] !== 10)
            throw framingError("a chunk's data is not followed by CRLF");
          at += 2;
          this.#chunks?.endChunk();
          this.#state = "size";
          break;
        }
        case "size":
        case "trailer": {
          const end = buffer.indexOf(CRLF, at);
          if (end < 0) {
            if (buffer.length - at > maxLineBytes) throw framingError("a chunk header line is too long");
            this.#pending = Buffer.from(buffer.subarray(at));
            return;
          }
          const line = buffer.toString("latin1", at, end);
          at = end + 2;
          if (this.#state === "size") this.#sizeLine(line);
          else this.#trailerLine(line);
          break;
        }
        case "done": {
          if (buffer.subarray(at).some((byte) => byte !== 13 && byte !== 10))
            throw framingError("data follows the final chunk");
          return;
        }
      }
    }
  }

  #sizeLine(line: string): void {
    const hex = line.split(";", 1)[0]!.trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex))
      throw framingError(`chunk size ${JSON.stringify(hex)} is not hexadecimal`);
    const size = Number.parseInt(hex, 16);
    if (this.#chunks !== null) {
      const signature = /;\s*chunk-signature=([0-9a-fA-F]+)/.exec(line)?.[1] ?? null;
      this.#chunks.startChunk(signature);
      if (size === 0) this.#chunks.endChunk();
    }
    if (size === 0) {
      this.#state = "trailer";
    } else {
      this.#remaining = size;
      this.#state = "data";
    }
  }

  #trailerLine(line: string): void {
    this.#trailerBytes += line.length + 2;
    if (this.#trailerBytes > maxTrailerBytes) throw framingError("the trailers are too long");
    if (line.trim() === "") {
      this.#state = "done";
      return;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw framingError(`trailer ${JSON.stringify(line)} is not name:value`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name !== "x-amz-trailer-signature") this.#trailerLines.push(`${name}:${value}`);
    this.#trailers.set(name, value);
  }

  #finish(): void {
    if (this.#decoding.awsChunked) {
      // SDKs that send no trailer end with `0\r\n` and no blank line: the body is complete.
      if (this.#state === "trailer" && this.#pending.length > 0) {
        this.#trailerLine(this.#pending.toString("latin1"));
        this.#pending = Buffer.alloc(0);
      }
      if (this.#state !== "trailer" && this.#state !== "done")
        throw s3Error("IncompleteBody", "the aws-chunked body ended before its final (zero-size) chunk");
      if (this.#chunks !== null && this.#decoding.signed?.trailerSigned)
        this.#chunks.verifyTrailer(this.#trailerLines, this.#trailers.get("x-amz-trailer-signature"));
    }
    const signedSha256 = this.#decoding.signed?.sha256;
    if (this.#rawSha256 !== null && signedSha256 !== undefined) {
      const received = this.#rawSha256.digest("hex");
      if (received !== signedSha256)
        throw new AuthFailure(
          "payloadMismatch",
          "the body's SHA-256 is not the x-amz-content-sha256 the request was signed with: the body was changed on the way, or the hash was computed over other bytes",
          { ClientComputedContentSHA256: signedSha256, S3ComputedContentSHA256: received },
        );
    }
    const expected = this.#decoding.expectedBytes;
    if (expected !== undefined && this.#bytes !== expected)
      throw s3Error(
        "IncompleteBody",
        `the body has ${this.#bytes} bytes, not the ${expected} its headers announce`,
      );
    const checksum = this.#decoding.checksum;
    if (checksum !== undefined) {
      const name = `x-amz-checksum-${checksum.algorithm}`;
      const expectedDigest = checksum.fromTrailer ? this.#trailers.get(name) : checksum.expected;
      if (expectedDigest === undefined)
        throw s3Error("InvalidRequest", `x-amz-trailer announced ${name}, but the body has no such trailer`);
      if (this.#checksum !== null && this.#checksum.digest() !== expectedDigest)
        throw s3Error(
          "BadDigest",
          `the ${checksumLabel(checksum.algorithm)} you specified did not match the calculated checksum`,
        );
    }
    if (this.#md5 !== null && this.#md5.digest("base64") !== this.#decoding.contentMd5)
      throw s3Error("BadDigest", "the Content-MD5 you specified did not match what was received");
  }
}

function tooLarge(bytes: number) {
  return s3Error(
    "EntityTooLarge",
    `the body has ${bytes} bytes: one upload or part takes at most 5 GiB (use a multipart upload)`,
  );
}

function framingError(what: string) {
  return s3Error("InvalidRequest", `malformed aws-chunked body: ${what}`);
}

/** The request's decoded body as a Node stream (empty if there is none). */
export function requestBody(
  request: Request,
  checksumHeadersAreBody = true,
  verified?: VerifiedRequest | null,
): Readable {
  const decoder = new S3BodyDecoder({
    ...bodyDecodingOf(request.headers, checksumHeadersAreBody),
    signed: signedBodyOf(verified),
  });
  const source =
    request.body === null
      ? Readable.from([])
      : Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>);
  // pipeline, not pipe: every failure (the client's connection, the framing, a checksum) reaches
  // the reader of the decoder as its error, and none is left unhandled.
  pipeline(source, decoder, () => {});
  return decoder;
}

/** The whole decoded body, refused past `limitBytes` (for the XML bodies). */
export async function requestBodyBytes(
  request: Request,
  limitBytes: number,
  checksumHeadersAreBody = true,
  verified?: VerifiedRequest | null,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const body = requestBody(request, checksumHeadersAreBody, verified);
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      body.destroy();
      throw s3Error("InvalidRequest", `the request body is larger than ${limitBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
