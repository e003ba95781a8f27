/** The sha256 and size of a file, read as a stream so that a large export never sits in memory. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface FileDigest {
  sha256: string;
  bytes: number;
}

export async function digestFile(filePath: string): Promise<FileDigest> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest("hex"), bytes };
}
