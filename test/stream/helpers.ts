import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ErrorCode } from "../../src/errors.js";
import { isHourglassError } from "../../src/errors.js";
import { openStreamService, type StreamService, type StreamServiceOptions } from "../../src/stream/index.js";

/** A clock that stands still until a test moves it. */
export class TestClock {
  constructor(public nowMs = Date.UTC(2024, 0, 1, 12)) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export function tempDir(prefix = "hourglass-stream-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Opens a service on a fresh folder with a test clock, no sweep timer, and small segments. */
export async function openTestService(
  overrides: Partial<StreamServiceOptions> = {},
): Promise<{ service: StreamService; dir: string; clock: TestClock }> {
  const clock = new TestClock();
  const dir = overrides.dir ?? tempDir();
  const service = await openStreamService({
    dir,
    clock: clock.now,
    sweepIntervalMs: 0,
    segmentBytes: 16 * 1024,
    ...overrides,
  });
  return { service, dir, clock };
}

/** For assert.rejects: the error is a HourglassError with this code (and AWS code, when given). */
export function hourglassError(code: ErrorCode, awsCode?: string, message?: RegExp) {
  return (error: unknown): boolean => {
    if (!isHourglassError(error, code)) return false;
    if (awsCode !== undefined && error.context["awsCode"] !== awsCode) return false;
    if (message !== undefined && !message.test(error.message)) return false;
    return true;
  };
}

export const text = (data: Uint8Array): string => Buffer.from(data).toString("utf8");

export function records(count: number, prefix = "r", partitionKey?: (i: number) => string) {
  return Array.from({ length: count }, (_, i) => ({
    Data: Buffer.from(`${prefix}${i}`),
    PartitionKey: partitionKey ? partitionKey(i) : `key-${i}`,
  }));
}

/** Reads a shard from an iterator to the end, page by page. */
export async function readAll(service: StreamService, iterator: string, limit = 10_000) {
  const all = [];
  let next: string | null = iterator;
  for (;;) {
    const page = await service.getRecords(next!, limit);
    all.push(...page.Records);
    next = page.NextShardIterator;
    // null: a closed shard read to its end.
    if (
      next === null ||
      page.Records.length === 0 ||
      (page.MillisBehindLatest === 0 && page.Records.length < limit)
    )
      break;
  }
  return all;
}

/** Resolves with the promise's value, or fails with a clear message once `ms` pass. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
