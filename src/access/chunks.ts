/**
 * The chunk signatures of an aws-chunked body signed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): each chunk's
 * `chunk-signature` signs its bytes and the signature before it, starting from the request's
 * own (the seed), so chunks can be neither changed, dropped nor reordered. The -TRAILER form
 * ends with `x-amz-trailer-signature`, over the trailer lines.
 */
import { createHash, type Hash } from "node:crypto";
import { chunkStringToSign, EMPTY_SHA256, sameSignature, signatureOf, trailerStringToSign } from "./sigv4.js";
import { AuthFailure, type VerifiedRequest } from "./verify.js";

export class ChunkSignatureChain {
  readonly #verified: VerifiedRequest;
  #previous: string;
  #claimed: string | null = null;
  #hash: Hash | null = null;

  constructor(verified: VerifiedRequest) {
    this.#verified = verified;
    this.#previous = verified.signature;
  }

  /** A chunk header was read: `signature` is its chunk-signature (null when it has none). */
  startChunk(signature: string | null): void {
    if (signature === null)
      throw new AuthFailure(
        "badSignature",
        "a chunk of this STREAMING-AWS4-HMAC-SHA256-PAYLOAD body has no chunk-signature",
      );
    this.#claimed = signature;
    this.#hash = createHash("sha256");
  }

  update(bytes: Uint8Array): void {
    this.#hash?.update(bytes);
  }

  /** The chunk's bytes are all in (the final chunk has none): its signature must hold. */
  endChunk(): void {
    const digest = this.#hash === null ? EMPTY_SHA256 : this.#hash.digest("hex");
    const { amzDate, scope, signingKey } = this.#verified;
    const expected = signatureOf(signingKey, chunkStringToSign(amzDate, scope, this.#previous, digest));
    if (this.#claimed === null || !sameSignature(expected, this.#claimed))
      throw new AuthFailure(
        "badSignature",
        "a chunk signature of the body does not match its bytes: the body was changed, or signed with another key",
        { SignatureProvided: this.#claimed ?? "" },
      );
    this.#previous = expected;
    this.#claimed = null;
    this.#hash = null;
  }

  /** The trailer (`name:value` lines, without the signature line) and its x-amz-trailer-signature. */
  verifyTrailer(lines: readonly string[], signature: string | undefined): void {
    const text = lines.map((line) => `${line}\n`).join("");
    const digest = createHash("sha256").update(text).digest("hex");
    const { amzDate, scope, signingKey } = this.#verified;
    const expected = signatureOf(signingKey, trailerStringToSign(amzDate, scope, this.#previous, digest));
    if (signature === undefined || !sameSignature(expected, signature))
      throw new AuthFailure("badSignature", "the trailer signature of the body does not match its trailers");
  }
}
