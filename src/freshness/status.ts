/**
 * Judging exported intervals (pure: no clock, no database). For each interval of a DAG: the run
 * that covers it, the latest export of each export task, and the data versions as they stand now
 * give one status:
 *
 * - running: a run of the interval is queued or running (its export is about to change);
 * - failed: the interval's latest run failed;
 * - missing: an export task has no export for the interval (never ran, or nothing recorded);
 * - stale-code: an export was written by another code version than the DAG's current one;
 * - stale-data: records landed in the interval's buckets after the export read them;
 * - fresh: none of these.
 *
 * The order is the order of what to do about it: a running or failed run first, then what a
 * re-run fixes (code, data).
 */
import type { BucketVersion, ExportRecord } from "../store/index.js";

export const exportStatuses = ["fresh", "stale-data", "stale-code", "missing", "failed", "running"] as const;
export type ExportStatus = (typeof exportStatuses)[number];

export interface IntervalRun {
  runId: string;
  runType: string;
  state: string;
}

export interface ExportStatusEntry {
  start: string;
  end: string;
  status: ExportStatus;
  /** The interval's latest run, if any. */
  run: IntervalRun | null;
  exports: Array<{
    taskId: string;
    bucket: string;
    key: string;
    /** False: the result was empty and nothing was written. */
    written: boolean;
    rows: number;
    exportedAt: string;
    runId: string;
    codeVersion: string | null;
  }>;
  /** Records that landed in the interval after its export read it (every export task together). */
  staleData: { records: number; lastWriteAt: string; tables: string[]; version: number } | null;
  /** The code version that wrote an export, against the DAG's current one. */
  staleCode: { exported: string | null; current: string } | null;
}

export interface ClassifyInput {
  /** Intervals to judge, in order. */
  intervals: ReadonlyArray<{ startMs: number; endMs: number }>;
  /** The latest run of each interval, by `${startMs}:${endMs}`. */
  runs: ReadonlyMap<string, IntervalRun>;
  /** The DAG's export task ids (a missing one makes the interval missing). */
  exportTaskIds: readonly string[];
  /** The latest export of each (task, interval). */
  exports: readonly ExportRecord[];
  /** The buckets of every table read, over the whole range. */
  buckets: readonly BucketVersion[];
  currentCodeVersion: string;
}

export const intervalKey = (startMs: number, endMs: number): string => `${startMs}:${endMs}`;

export function classifyIntervals(input: ClassifyInput): ExportStatusEntry[] {
  const exportsByInterval = new Map<string, ExportRecord[]>();
  for (const e of input.exports) {
    const key = intervalKey(e.intervalStartMs, e.intervalEndMs);
    const list = exportsByInterval.get(key);
    if (list === undefined) exportsByInterval.set(key, [e]);
    else list.push(e);
  }
  const bucketsByTable = new Map<number, BucketVersion[]>();
  for (const b of input.buckets) {
    const list = bucketsByTable.get(b.tableId);
    if (list === undefined) bucketsByTable.set(b.tableId, [b]);
    else list.push(b);
  }
  for (const list of bucketsByTable.values()) list.sort((a, b) => a.startMs - b.startMs);

  return input.intervals.map(({ startMs, endMs }) => {
    const key = intervalKey(startMs, endMs);
    const run = input.runs.get(key) ?? null;
    const exports = exportsByInterval.get(key) ?? [];
    let staleRecords = 0;
    let lastWriteMs = Number.NEGATIVE_INFINITY;
    let staleVersion = 0;
    const staleTables = new Set<string>();
    let staleCode: ExportStatusEntry["staleCode"] = null;
    for (const e of exports) {
      if (e.codeVersion !== input.currentCodeVersion && staleCode === null)
        staleCode = { exported: e.codeVersion, current: input.currentCodeVersion };
      for (const read of e.reads) {
        const now = overlapping(bucketsByTable.get(read.tableId) ?? [], startMs, endMs);
        let version = 0;
        let records = 0;
        let written = Number.NEGATIVE_INFINITY;
        for (const b of now) {
          version = Math.max(version, b.version);
          records += b.records;
          if (b.version > read.version) written = Math.max(written, b.writtenMs);
        }
        if (version > read.version) {
          staleRecords += Math.max(0, records - read.records);
          lastWriteMs = Math.max(lastWriteMs, written);
          staleVersion = Math.max(staleVersion, version);
          staleTables.add(read.table);
        }
      }
    }
    const taskIds = new Set(exports.map((e) => e.taskId));
    const missing =
      input.exportTaskIds.length === 0
        ? exports.length === 0
        : input.exportTaskIds.some((id) => !taskIds.has(id));
    const staleData =
      staleTables.size === 0
        ? null
        : {
            records: staleRecords,
            lastWriteAt: new Date(lastWriteMs).toISOString(),
            tables: [...staleTables],
            version: staleVersion,
          };
    const status: ExportStatus =
      run !== null && (run.state === "queued" || run.state === "running")
        ? "running"
        : run !== null && run.state === "failed"
          ? "failed"
          : missing
            ? "missing"
            : staleCode !== null
              ? "stale-code"
              : staleData !== null
                ? "stale-data"
                : "fresh";
    return {
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      status,
      run,
      exports: exports.map((e) => ({
        taskId: e.taskId,
        bucket: e.bucket,
        key: e.key,
        written: e.written,
        rows: e.rows,
        exportedAt: new Date(e.writtenMs).toISOString(),
        runId: e.runId,
        codeVersion: e.codeVersion,
      })),
      staleData,
      staleCode,
    };
  });
}

/** The buckets (sorted by start) overlapping [startMs, endMs): a binary search, then a short walk. */
function overlapping(buckets: readonly BucketVersion[], startMs: number, endMs: number): BucketVersion[] {
  // Buckets of one table may differ in width (the width was changed): start the walk one widest
  // bucket early. Widths are few, so the walk stays short.
  let low = 0;
  let high = buckets.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (buckets[mid]!.startMs + buckets[mid]!.widthMs <= startMs) low = mid + 1;
    else high = mid;
  }
  const out: BucketVersion[] = [];
  for (let i = Math.max(0, low - 8); i < buckets.length; i++) {
    const b = buckets[i]!;
    if (b.startMs >= endMs) break;
    if (b.startMs + b.widthMs > startMs) out.push(b);
  }
  return out;
}
