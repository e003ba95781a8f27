import zlib from "node:zlib";

/**
 * CRC-32 (IEEE, as zlib and gzip). Node 20.15+ has zlib.crc32 in C; on older Node 20 releases we fall
 * back to a table-driven version so the file format is the same everywhere.
 */
type Crc32 = (data: Uint8Array) => number;

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;

function buildTable(): Uint32Array {
  const result = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    result[n] = c >>> 0;
  }
  return result;
}

export function tableCrc32(data: Uint8Array): number {
  table ??= buildTable();
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export const crc32: Crc32 = nativeCrc32 ? (data) => nativeCrc32(data) : tableCrc32;
