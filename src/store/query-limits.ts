/**
 * What one query may use: time, memory (DuckDB's, shared by the whole store), disk to spill to,
 * a share of the store (how many run at once), and sequence() entries. The defaults and how to
 * change them are in docs/limits.md; every error here names the setting that raises the limit.
 */
import os from "node:os";
import { HourglassError } from "../errors.js";
import { DEFAULT_SEQUENCE_MAX_ENTRIES } from "../sql/contract.js";

export interface QueryLimits {
  /**
   * DuckDB's memory_limit: for the whole store (DuckDB has no limit per query or connection), so
   * queries and writes share it. A size such as "4GB" or "512MB", or a share of the machine's
   * memory such as "50%".
   */
  memoryLimit: string;
  /** DuckDB's max_temp_directory_size: how much the store may spill to its temp folder ("10GB"). */
  tempLimit: string;
  /** The longest a query may execute (waiting for a free slot or for the next page does not count). */
  timeoutMs: number;
  /**
   * How many queries (and exports) execute at once; the others wait for a slot. Each executing
   * DuckDB call holds one thread of libuv's pool (UV_THREADPOOL_SIZE, 4 by default) for as long as
   * it runs, and writes and file I/O need the others: measured, four running queries held a
   * one-line file read and a `SELECT 1` on another connection for as long as they ran.
   */
  maxConcurrent: number;
  /** The most entries one sequence() may produce. */
  sequenceMaxEntries: number;
}

export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  memoryLimit: "50%",
  tempLimit: "10GB",
  timeoutMs: 5 * 60_000,
  maxConcurrent: 2,
  sequenceMaxEntries: DEFAULT_SEQUENCE_MAX_ENTRIES,
});

/** The longest time limit a configuration may set: an hour. */
export const MAX_QUERY_TIMEOUT_MS = 60 * 60_000;

/** Threads of libuv's pool that executing queries must leave to writes and file I/O. */
export const THREADS_LEFT_FOR_WRITES = 2;

/** A size DuckDB understands, or a share of this machine's memory ("50%"). */
export const SIZE_PATTERN = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)\s*$/i;

/** The size to give DuckDB: a percentage becomes MiB of this machine's memory. */
export function duckdbSize(value: string, setting: string): string {
  if (!SIZE_PATTERN.test(value)) {
    throw new HourglassError(
      "ValidationError",
      `${setting} '${value}' is not a size: use e.g. 512MB, 4GB or 50% (of this machine's memory)`,
    );
  }
  const trimmed = value.trim();
  if (!trimmed.endsWith("%")) return trimmed.replace(/\s+/g, "");
  const share = Number(trimmed.slice(0, -1)) / 100;
  if (!(share > 0 && share <= 1)) {
    throw new HourglassError("ValidationError", `${setting} '${value}' must be a share from 1% to 100%`);
  }
  return `${Math.max(16, Math.floor((os.totalmem() * share) / 2 ** 20))}MiB`;
}

/** Why a running query was stopped by us. */
export type StopReason = "timeout" | "cancelled";

export function timeoutError(limits: QueryLimits): HourglassError {
  const seconds = limits.timeoutMs / 1000;
  return new HourglassError(
    "ValidationError",
    `the query ran longer than the time limit of ${formatSeconds(seconds)} and was stopped: make it cheaper (a narrower time range, fewer groups) or raise queryTimeoutSeconds (hourglass.yaml, or HOURGLASS_QUERY_TIMEOUT_SECONDS; at most ${MAX_QUERY_TIMEOUT_MS / 1000})`,
    { context: { limit: "queryTimeoutSeconds", value: seconds } },
  );
}

export function cancelledError(): HourglassError {
  return new HourglassError(
    "ValidationError",
    "the query was cancelled (its client went away, or CancelQuery was called) and was stopped",
    { context: { limit: "cancelled" } },
  );
}

/**
 * DuckDB's out-of-memory errors (the memory limit, or the temp folder full when spilling) as a
 * client error that names our settings instead of DuckDB's SET statements; null for other errors.
 */
export function resourceError(
  message: string,
  limits: { memoryLimit: string; tempLimit: string; tempDirectory: string | null },
): HourglassError | null {
  if (!/Out of Memory Error/i.test(message)) return null;
  const spill = limits.tempDirectory ? ` to ${limits.tempDirectory}` : "";
  if (/max_temp_directory_size/i.test(message)) {
    return new HourglassError(
      "ValidationError",
      `the query needs more memory than the store's limit (queryMemoryLimit = ${limits.memoryLimit}) and more disk to spill${spill} than queryTempLimit = ${limits.tempLimit} allows: make it cheaper (a narrower time range, fewer groups) or raise queryTempLimit (hourglass.yaml, or HOURGLASS_QUERY_TEMP_LIMIT) or queryMemoryLimit (HOURGLASS_QUERY_MEMORY_LIMIT)`,
      { context: { limit: "queryTempLimit", value: limits.tempLimit } },
    );
  }
  return new HourglassError(
    "ValidationError",
    `the query needs more memory than the store's limit (queryMemoryLimit = ${limits.memoryLimit}, shared by all queries and writes) and what it holds cannot spill to disk: make it cheaper (a narrower time range, fewer groups, smaller arrays) or raise queryMemoryLimit (hourglass.yaml, or HOURGLASS_QUERY_MEMORY_LIMIT)`,
    { context: { limit: "queryMemoryLimit", value: limits.memoryLimit } },
  );
}

function formatSeconds(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** A counting semaphore whose waiters can give up (a client that went away). */
export class Slots {
  private free: number;
  private readonly waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(size: number) {
    this.free = size;
  }

  get waiters(): number {
    return this.waiting.length;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(cancelledError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.free++;
  }
}
