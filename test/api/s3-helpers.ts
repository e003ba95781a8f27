/** A real Hourglass server with a lake (the S3 endpoint), and S3 clients for it. */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { type Lake, openLocalLake } from "../../src/lake/index.js";
import { tempDir } from "../support/store.js";
import { credentials, startTestServer, type TestServer } from "./helpers.js";

export interface S3TestServer extends TestServer {
  lake: Lake;
  lakeDir: string;
}

export async function startS3TestServer(options: { nowMs?: number } = {}): Promise<S3TestServer> {
  const lakeDir = tempDir("hg-s3-lake-");
  const lake = openLocalLake(lakeDir);
  const server = await startTestServer({ ...options, lake });
  return {
    ...server,
    lake,
    lakeDir,
    async close() {
      await server.close();
      fs.rmSync(lakeDir, { recursive: true, force: true });
    },
  };
}

/** Path-style, one attempt (errors reach the test at once), the SDK's default checksums. */
export function s3Client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    region: "us-east-1",
    credentials,
    endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
    ...extra,
  });
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
export const md5 = (data: Uint8Array) => createHash("md5").update(data).digest("hex");

/** Random bytes (incompressible, every value) of `size`. */
export const randomContent = (size: number) => randomBytes(size);

/** Files the lake left in its temp folder (staged parts, uncommitted puts). */
export function tempFiles(lakeDir: string): string[] {
  const dir = path.join(lakeDir, ".tmp");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => !name.startsWith("meta-")) : [];
}
