/** A real Hourglass HTTP server on 127.0.0.1, port 0, over a temp state folder, and AWS SDK clients for it. */
import fs from "node:fs";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { TimestreamQueryClient } from "@aws-sdk/client-timestream-query";
import { TimestreamWriteClient } from "@aws-sdk/client-timestream-write";
import { KeyRing, keysFilePath, writeKeyFile } from "../../src/access/index.js";
import { type AppOptions, createApp } from "../../src/api/app.js";
import { type RunningHttpServer, startHttpServer } from "../../src/api/http-server.js";
import { TimestreamStore } from "../../src/store/index.js";
import type { QueryLimits } from "../../src/store/query-limits.js";
import { openStreamService, type StreamService } from "../../src/stream/index.js";
import { signedFetch } from "../support/sigv4.js";
import { SEED_NOW_MS, tempDir } from "../support/store.js";

/**
 * The key every test server knows: startTestServer writes it into the server's keys.json, as
 * `hourglass keys create` would have (with a fixed id and secret, so clients can be built before
 * the server starts). Signatures are checked as in production.
 */
export const credentials = {
  accessKeyId: "AKIDEXAMPLE0000TEST",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

/** Writes `credentials` into `<stateDir>/keys.json` (before startHourglass, for its clients). */
export function writeTestKey(stateDir: string): void {
  writeKeyFile(keysFilePath(stateDir), [
    { ...credentials, name: "test fixture", createdAt: new Date().toISOString() },
  ]);
}

/** Writes `credentials` into `<stateDir>/keys.json` and returns the key ring a server reads it with. */
export function testKeyRing(stateDir: string): KeyRing {
  writeTestKey(stateDir);
  return new KeyRing(stateDir);
}
/** One attempt, so an error reaches the test at once instead of after the SDK's retries. */
const clientConfig = { region: "us-east-1", credentials, maxAttempts: 1 };

export interface TestServer {
  server: RunningHttpServer;
  store: TimestreamStore;
  stream: StreamService;
  clock: { nowMs: number };
  dir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  options: { nowMs?: number; limits?: Partial<QueryLimits>; noAuth?: boolean } & Partial<
    Omit<AppOptions, "store" | "stream" | "keys">
  > = {},
): Promise<TestServer> {
  const dir = tempDir("hg-api-");
  const clock = { nowMs: options.nowMs ?? SEED_NOW_MS };
  const store = await TimestreamStore.open({
    dir,
    clockMs: () => clock.nowMs,
    sweepIntervalMs: 0,
    threads: 2,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    // The lake the S3 endpoint serves is also where UNLOAD writes.
    ...(options.lake === undefined ? {} : { lake: options.lake }),
  });
  const stream = await openStreamService({ dir, sweepIntervalMs: 0, syncPolicy: "none" });
  const keys = options.noAuth ? null : testKeyRing(dir);
  const server = await startHttpServer(createApp({ ...options, store, stream, keys }));
  return {
    server,
    store,
    stream,
    clock,
    dir,
    async close() {
      await server.close();
      await stream.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const writeClient = (url: string) => new TimestreamWriteClient({ ...clientConfig, endpoint: url });
export const queryClient = (url: string) => new TimestreamQueryClient({ ...clientConfig, endpoint: url });
/** The SDK's default Kinesis handler: HTTP/2 with prior knowledge on http:// URLs. */
export const kinesisClient = (url: string) => new KinesisClient({ ...clientConfig, endpoint: url });

/** Awaits a promise that must fail, and returns what it threw. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail, and it succeeded");
}

/** A raw AWS JSON call over HTTP/1.1 (what boto3 sends), signed with `credentials`, for what SDKs would not send. */
export async function rawAwsCall(
  url: string,
  target: string,
  body: string,
  contentType = "application/x-amz-json-1.0",
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await signedFetch(url, credentials, {
    service: target.startsWith("Kinesis") ? "kinesis" : "timestream",
    headers: { "content-type": contentType, "x-amz-target": target },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}
