/**
 * Sinks that send generated loops somewhere: straight into the store (WriteRecords on the native
 * batch path, a whole loop a call) or onto a stream (PutRecords of 500, within Kinesis's size
 * limits, retrying what failed), for the connector to carry into the store.
 */
import { HourglassError, toHourglassError, validationError } from "../errors.js";
import type { StoreService, WriteRecord } from "../store/index.js";
import { type PutRecordInput, type PutRecordsOutput, streamLimits } from "../stream/index.js";
import type { GeneratedLoop, RecordShape } from "./generate.js";
import type { LoadSink } from "./run.js";
import { inBatches, iterateStreamPayloads, iterateWriteRecords, type StreamPayload } from "./shapes.js";

/** What a sink did so far. */
export interface SinkStats {
  loops: number;
  /** Records the store took, or the stream acknowledged. */
  records: number;
  /** Records the store rejected (e.g. outside the table's ingestion window). */
  rejected: number;
  /** Records the stream refused (over 1 MiB, a bad partition key): they are not on the stream. */
  refused: number;
  /** Calls tried again after a transient failure. */
  retries: number;
  bytes: number;
  /** The first rejection's or refusal's reason, to tell the user why. */
  firstProblem: string | undefined;
}

export type StatsSink = LoadSink & { readonly stats: SinkStats };

const newStats = (): SinkStats => ({
  loops: 0,
  records: 0,
  rejected: 0,
  refused: 0,
  retries: 0,
  bytes: 0,
  firstProblem: undefined,
});

function checkShape(sinkShape: RecordShape | undefined, loop: GeneratedLoop): void {
  // The run counts records by its own shape: a sink writing another shape would make them wrong.
  if (sinkShape !== undefined && sinkShape !== loop.shape) {
    throw validationError(`the sink writes the ${sinkShape} shape but the run generates ${loop.shape} loops`);
  }
}

// ---- store ----------------------------------------------------------------------------------------

export interface StoreSinkOptions {
  /** Record shape to write; must match the run's `shape` (default: the loop's). */
  shape?: RecordShape;
  /**
   * Records per WriteRecords call. Default: the whole loop in one call (the native batch path of
   * the local store). Through the REST API (a running server) use 100, Timestream's limit.
   */
  recordsPerWrite?: number;
}

type StoreWriter = Pick<StoreService, "writeRecords">;

/** Writes every loop to `database.table`; rejected records are counted in `stats`, not thrown. */
export function storeSink(
  store: StoreWriter,
  database: string,
  table: string,
  options: StoreSinkOptions = {},
): StatsSink {
  const perWrite = options.recordsPerWrite;
  if (perWrite !== undefined && !(Number.isInteger(perWrite) && perWrite >= 1)) {
    throw validationError(`recordsPerWrite must be a positive integer, got ${String(perWrite)}`);
  }
  const stats = newStats();
  const write = async (records: WriteRecord[]): Promise<void> => {
    const result = await store.writeRecords(
      { DatabaseName: database, TableName: table, Records: records },
      { maxRecords: records.length },
    );
    stats.records += result.RecordsIngested.Total;
    stats.rejected += result.rejected.length;
    if (result.rejected.length > 0) stats.firstProblem ??= result.rejected[0]!.Reason;
  };
  return {
    stats,
    async write(loop) {
      checkShape(options.shape, loop);
      if (perWrite === undefined) {
        await write(Array.from(iterateWriteRecords(loop)));
      } else {
        for (const batch of inBatches(iterateWriteRecords(loop), perWrite)) await write(batch);
      }
      stats.loops++;
    },
  };
}

// ---- stream ---------------------------------------------------------------------------------------

/** The stream limits the sink respects (Kinesis's: 500 records, 1 MiB a record, 5 MiB a call). */
const {
  maxRecordsPerPutRecords: maxRecordsPerCall,
  maxRecordBytes,
  maxPutRecordsRequestBytes: maxCallBytes,
} = streamLimits;
const defaultMaxAttempts = 8;
const defaultRetryDelayMs = 100;
const maxRetryDelayMs = 5_000;
/** Per-record error codes a retry can cure (Kinesis's throttling and internal failures). */
const retryableRecordErrors = new Set(["ProvisionedThroughputExceededException", "InternalFailure"]);

export interface StreamSinkOptions {
  /** Payload shape: `single` (the original JSON) or `multi` (flat JSON); default: the loop's. */
  shape?: RecordShape;
  /** PutRecords calls in flight at once (they share the stream's group commit). Default 4. */
  concurrency?: number;
  /** Attempts per call before a transient failure is thrown. Default 8. */
  maxAttempts?: number;
  /** First wait before a retry; doubles up to 5 s. Default 100 ms. */
  retryDelayMs?: number;
}

type StreamWriter = { putRecords(name: string, records: PutRecordInput[]): Promise<PutRecordsOutput> };

/**
 * Puts every loop's payloads on `streamName`. Records over 1 MiB are refused before sending, as
 * Kinesis would; records the stream refuses are counted in `stats` (never retried: they cannot
 * succeed); records or calls that failed transiently are retried with backoff.
 */
export function streamSink(
  streams: StreamWriter,
  streamName: string,
  options: StreamSinkOptions = {},
): StatsSink {
  const concurrency = options.concurrency ?? 4;
  const maxAttempts = options.maxAttempts ?? defaultMaxAttempts;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  for (const [name, value] of [
    ["concurrency", concurrency],
    ["maxAttempts", maxAttempts],
    ["retryDelayMs", retryDelayMs],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 1)) {
      throw validationError(`${name} must be a positive integer, got ${String(value)}`);
    }
  }
  const stats = newStats();

  const refuse = (reason: string): void => {
    stats.refused++;
    stats.firstProblem ??= reason;
  };

  const putWithRetries = async (records: PutRecordInput[]): Promise<void> => {
    let pending = records;
    for (let attempt = 1; ; attempt++) {
      let result: PutRecordsOutput;
      try {
        result = await streams.putRecords(streamName, pending);
      } catch (error) {
        const failure = toHourglassError(error);
        if (!failure.retryable || attempt >= maxAttempts) throw failure;
        stats.retries++;
        await sleep(Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (attempt - 1)));
        continue;
      }
      const again: PutRecordInput[] = [];
      result.Records.forEach((entry, i) => {
        if (!("ErrorCode" in entry)) {
          stats.records++;
          stats.bytes += pending[i]!.Data.length;
        } else if (retryableRecordErrors.has(entry.ErrorCode)) {
          again.push(pending[i]!);
        } else {
          refuse(entry.ErrorMessage);
        }
      });
      if (again.length === 0) return;
      if (attempt >= maxAttempts) {
        throw new HourglassError(
          "Throttled",
          `${again.length} record(s) still failing after ${attempt} attempts`,
          {
            retryable: true,
          },
        );
      }
      stats.retries++;
      pending = again;
      await sleep(Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (attempt - 1)));
    }
  };

  return {
    stats,
    async write(loop) {
      checkShape(options.shape, loop);
      const inFlight = new Set<Promise<void>>();
      let firstError: unknown;
      const launch = (chunk: PutRecordInput[]): Promise<void> => {
        const call = putWithRetries(chunk)
          .catch((error: unknown) => {
            firstError ??= error;
          })
          .finally(() => inFlight.delete(call));
        inFlight.add(call);
        return call;
      };
      for (const chunk of chunksOf(iterateStreamPayloads(loop), refuse)) {
        if (firstError !== undefined) break;
        launch(chunk);
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (firstError !== undefined) throw firstError;
      stats.loops++;
    },
  };
}

/** Groups payloads into PutRecords calls: at most 500 records and 5 MiB; oversized records are refused. */
function* chunksOf(
  payloads: Iterable<StreamPayload>,
  refuse: (reason: string) => void,
): Generator<PutRecordInput[]> {
  let chunk: PutRecordInput[] = [];
  let bytes = 0;
  for (const payload of payloads) {
    const size = payload.data.length + Buffer.byteLength(payload.partitionKey);
    if (size > maxRecordBytes) {
      refuse(`record is ${size} bytes (partition key + data), more than ${maxRecordBytes}`);
      continue;
    }
    if (chunk.length === maxRecordsPerCall || bytes + size > maxCallBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push({ Data: payload.data, PartitionKey: payload.partitionKey });
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
