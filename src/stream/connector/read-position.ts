/**
 * Read positions as people and URLs write them — `trim-horizon`, `latest`, `at:SEQ`, `after:SEQ`,
 * `time:ISO` and `iterator:IT` (a NextShardIterator handed back, to continue where a page ended) —
 * and one page read from such a position, waiting a while for records when the shard has none.
 * The CLI's `stream get` and the REST route use it, locally or behind the HTTP API.
 */
import { validationError } from "../../errors.js";
import { formatSequenceNumber, parseSequenceNumber } from "../sequence-number.js";
import type { GetRecordsOutput, StreamService } from "../types.js";

export type ReadPosition =
  | { type: "TRIM_HORIZON" }
  | { type: "LATEST" }
  | { type: "AT_SEQUENCE_NUMBER"; sequenceNumber: string }
  | { type: "AFTER_SEQUENCE_NUMBER"; sequenceNumber: string }
  | { type: "AT_TIMESTAMP"; timestamp: Date }
  | { type: "ITERATOR"; iterator: string };

/** Longest wait for records a single read may ask for. */
export const maxReadWaitMs = 20_000;

const usage = "trim-horizon, latest, at:SEQUENCE, after:SEQUENCE, time:ISO-8601 or iterator:ITERATOR";

export function parseReadPosition(text: unknown): ReadPosition {
  if (typeof text !== "string" || text === "") throw validationError(`a read position is one of ${usage}`);
  const lower = text.toLowerCase();
  if (lower === "trim-horizon" || lower === "trim_horizon") return { type: "TRIM_HORIZON" };
  if (lower === "latest") return { type: "LATEST" };
  const colon = text.indexOf(":");
  const kind = colon < 0 ? "" : lower.slice(0, colon);
  const rest = colon < 0 ? "" : text.slice(colon + 1);
  switch (kind) {
    case "at":
      parseSequenceNumber(rest);
      return { type: "AT_SEQUENCE_NUMBER", sequenceNumber: rest };
    case "after":
      parseSequenceNumber(rest);
      return { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: rest };
    case "time": {
      const ms = Date.parse(rest);
      if (!/^\d{4}-\d{2}-\d{2}/.test(rest) || Number.isNaN(ms)) {
        throw validationError(`time:${rest} is not an ISO-8601 time (e.g. time:2024-01-01T12:00:00Z)`);
      }
      return { type: "AT_TIMESTAMP", timestamp: new Date(ms) };
    }
    case "iterator":
      if (rest === "") throw validationError("iterator: needs a shard iterator after the colon");
      return { type: "ITERATOR", iterator: rest };
    default:
      throw validationError(`unknown read position ${JSON.stringify(text)}: use ${usage}`);
  }
}

type IteratorSource = Pick<StreamService, "getShardIterator">;

export function iteratorFor(
  streams: IteratorSource,
  stream: string,
  shardId: string,
  position: ReadPosition,
): Promise<string> {
  switch (position.type) {
    case "ITERATOR":
      return Promise.resolve(position.iterator);
    case "AT_SEQUENCE_NUMBER":
    case "AFTER_SEQUENCE_NUMBER":
      return streams.getShardIterator(stream, shardId, position.type, {
        StartingSequenceNumber: position.sequenceNumber,
      });
    case "AT_TIMESTAMP":
      return streams.getShardIterator(stream, shardId, "AT_TIMESTAMP", { Timestamp: position.timestamp });
    default:
      return streams.getShardIterator(stream, shardId, position.type);
  }
}

/**
 * One page (up to `limit` records) from `position`. With `waitMs` > 0 and no record there yet, it
 * waits up to that long for one (no polling) and reads again.
 */
export async function readShardPage(
  streams: Pick<StreamService, "getShardIterator" | "getRecords" | "waitForRecords" | "getShardStats">,
  stream: string,
  shardId: string,
  position: ReadPosition,
  options: { limit?: number; waitMs?: number } = {},
): Promise<GetRecordsOutput> {
  const waitMs = options.waitMs ?? 0;
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > maxReadWaitMs) {
    throw validationError(`waitMs must be an integer in 0..${maxReadWaitMs}, got ${String(options.waitMs)}`);
  }
  const iterator = await iteratorFor(streams, stream, shardId, position);
  const page = await streams.getRecords(iterator, options.limit);
  if (page.Records.length > 0 || waitMs === 0 || page.NextShardIterator === null) return page;
  const after = await sequenceBefore(streams, stream, shardId, position);
  // A record that arrived between the read and `after` is newer than the read but not than `after`:
  // read once more before waiting, so it is not missed for the whole wait.
  const again = await streams.getRecords(page.NextShardIterator, options.limit);
  if (again.Records.length > 0 || again.NextShardIterator === null) return again;
  if (!(await streams.waitForRecords(stream, shardId, after, waitMs))) return again;
  return streams.getRecords(again.NextShardIterator, options.limit);
}

/** The last record before the position, to wait for records after it (null: any record). */
async function sequenceBefore(
  streams: Pick<StreamService, "getShardStats">,
  stream: string,
  shardId: string,
  position: ReadPosition,
): Promise<string | null> {
  switch (position.type) {
    case "AFTER_SEQUENCE_NUMBER":
      return position.sequenceNumber;
    case "AT_SEQUENCE_NUMBER": {
      const { shardIndex, offset } = parseSequenceNumber(position.sequenceNumber);
      return offset === 0 ? null : formatSequenceNumber(shardIndex, offset - 1);
    }
    case "TRIM_HORIZON":
      return null;
    default: {
      // The read found nothing, so the position was the tip.
      const stats = await streams.getShardStats(stream);
      return stats.find((s) => s.ShardId === shardId)?.LastSequenceNumber ?? null;
    }
  }
}
