/**
 * The flexible checksums S3 clients send (`x-amz-checksum-<algorithm>`, base64 of the big-endian
 * digest), computed over the decoded body so that a mismatch refuses the upload before it is
 * committed. CRC32 and CRC32C are table-driven (zlib's crc32 serves CRC32 where Node has it);
 * CRC64NVME is accepted without being checked.
 */
import { createHash, type Hash } from "node:crypto";
import zlib from "node:zlib";

export const checksumAlgorithms = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const;
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number];

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (checksumAlgorithms as readonly string[]).includes(name);
}

/** A running checksum; null for an algorithm that is not verified here. */
export interface RunningChecksum {
  update(chunk: Uint8Array): void;
  /** Base64 of the digest, as the header carries it. */
  digest(): string;
}

function crcTable(reversedPolynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? reversedPolynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const tables = new Map<number, Uint32Array>();
function tableFor(reversedPolynomial: number): Uint32Array {
  let table = tables.get(reversedPolynomial);
  if (table === undefined) {
    table = crcTable(reversedPolynomial);
    tables.set(reversedPolynomial, table);
  }
  return table;
}

class Crc32 implements RunningChecksum {
  #crc = 0;
  readonly #table: Uint32Array | null;

  constructor(castagnoli: boolean) {
    // zlib.crc32 (Node 20.15+) is CRC32 with the IEEE polynomial, in native code.
    const native = typeof (zlib as { crc32?: unknown }).crc32 === "function";
    this.#table = castagnoli ? tableFor(0x82f63b78) : native ? null : tableFor(0xedb88320);
  }

  update(chunk: Uint8Array): void {
    if (this.#table === null) {
      this.#crc = (zlib as unknown as { crc32(data: Uint8Array, value: number): number }).crc32(
        chunk,
        this.#crc,
      );
      return;
    }
    const table = this.#table;
    let crc = ~this.#crc;
    for (let i = 0; i < chunk.length; i++) crc = table[(crc ^ chunk[i]!) & 0xff]! ^ (crc >>> 8);
    this.#crc = ~crc >>> 0;
  }

  digest(): string {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.#crc >>> 0);
    return bytes.toString("base64");
  }
}

class HashChecksum implements RunningChecksum {
  readonly #hash: Hash;
  constructor(algorithm: "sha1" | "sha256") {
    this.#hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  digest(): string {
    return this.#hash.digest("base64");
  }
}

export function runningChecksum(algorithm: ChecksumAlgorithm): RunningChecksum | null {
  switch (algorithm) {
    case "crc32":
      return new Crc32(false);
    case "crc32c":
      return new Crc32(true);
    case "sha1":
    case "sha256":
      return new HashChecksum(algorithm);
    case "crc64nvme":
      return null;
  }
}

/** The names S3 gives them in messages. */
export function checksumLabel(algorithm: ChecksumAlgorithm): string {
  return algorithm.toUpperCase();
}
