/**
 * The dead-letter stream: records the connector cannot store (payloads it cannot map, records the
 * store refuses) are put there as JSON with the reason and the original payload, so nothing is
 * dropped silently and the connector keeps flowing.
 */
import { HourglassError, isHourglassError } from "../../errors.js";
import { maxPutRecordsRequestBytes, maxRecordBytes, maxRecordsPerPutRecords } from "../limits.js";
import type { PutRecordInput, PutRecordsOutput, StreamService } from "../types.js";
import type { BatchEntry } from "./batch.js";

export interface DeadLetter {
  kind: "parse" | "rejected";
  reason: string;
  /** Index of the record in the store write that refused it. */
  recordIndex?: number;
  existingVersion?: number;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  arrivalMs: number;
  data: Uint8Array;
}

/** The JSON put on the dead-letter stream. */
export interface DeadLetterPayload {
  reason: string;
  kind: "parse" | "rejected";
  recordIndex?: number;
  existingVersion?: number;
  connector: string;
  stream: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  arrivalTime: string;
  /** The original payload: UTF-8 text, or base64 when it was not UTF-8 (`dataEncoding`). */
  data: string;
  dataEncoding?: "base64";
  /** Set when the payload had to be cut to fit the 1 MiB record limit with the fields around it. */
  truncated?: true;
  originalBytes?: number;
  at: string;
}

/** Kinesis keeps dead letters longer than data: people need time to look at them. */
const deadLetterRetentionHours = 168;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8");

export class DeadLetterWriter {
  private created = false;

  constructor(
    private readonly streams: Pick<StreamService, "createStream" | "putRecords">,
    readonly streamName: string,
    private readonly source: { connector: string; stream: string },
    private readonly clock: () => number,
  ) {}

  /** Puts every letter; throws (retryable when a retry can help) if any could not be put. */
  async put(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.ensureStream();
    const at = new Date(this.clock()).toISOString();
    const records = letters.map((letter) => this.encode(letter, at));
    let start = 0;
    while (start < records.length) {
      // Chunks within PutRecords' 500-record and 5 MiB limits.
      let end = start;
      let bytes = 0;
      while (end < records.length && end - start < maxRecordsPerPutRecords) {
        const size = records[end]!.Data.length + Buffer.byteLength(records[end]!.PartitionKey);
        if (end > start && bytes + size > maxPutRecordsRequestBytes) break;
        bytes += size;
        end++;
      }
      let result: PutRecordsOutput;
      try {
        result = await this.streams.putRecords(this.streamName, records.slice(start, end));
      } catch (error) {
        // Deleted by hand: create it again on the retry.
        if (isHourglassError(error, "NotFound")) this.created = false;
        throw error;
      }
      if (result.FailedRecordCount > 0) {
        const failed = result.Records.find((r) => "ErrorCode" in r) as { ErrorMessage: string } | undefined;
        throw new HourglassError(
          "Internal",
          `the dead-letter stream ${this.streamName} refused ${result.FailedRecordCount} record(s): ${failed?.ErrorMessage}`,
        );
      }
      start = end;
    }
  }

  private async ensureStream(): Promise<void> {
    if (this.created) return;
    try {
      await this.streams.createStream(this.streamName, 1, { retentionHours: deadLetterRetentionHours });
    } catch (error) {
      if (!isHourglassError(error, "Conflict")) throw error;
    }
    this.created = true;
  }

  private encode(letter: DeadLetter, at: string): PutRecordInput {
    const payload: DeadLetterPayload = {
      reason: letter.reason,
      kind: letter.kind,
      ...(letter.recordIndex === undefined ? {} : { recordIndex: letter.recordIndex }),
      ...(letter.existingVersion === undefined ? {} : { existingVersion: letter.existingVersion }),
      connector: this.source.connector,
      stream: this.source.stream,
      shardId: letter.shardId,
      sequenceNumber: letter.sequenceNumber,
      partitionKey: letter.partitionKey,
      arrivalTime: new Date(letter.arrivalMs).toISOString(),
      data: "",
      at,
    };
    try {
      payload.data = strictUtf8.decode(letter.data);
    } catch {
      payload.data = Buffer.from(letter.data).toString("base64");
      payload.dataEncoding = "base64";
    }
    const keyBytes = Buffer.byteLength(letter.partitionKey);
    let json = JSON.stringify(payload);
    let budget = maxRecordBytes - keyBytes;
    // A payload close to 1 MiB no longer fits once quoted and wrapped: keep its beginning.
    while (Buffer.byteLength(json) > maxRecordBytes - keyBytes) {
      budget = Math.floor(budget / 2);
      payload.truncated = true;
      payload.originalBytes = letter.data.length;
      payload.data =
        payload.dataEncoding === "base64"
          ? Buffer.from(letter.data.subarray(0, budget)).toString("base64")
          : lenientUtf8.decode(letter.data.subarray(0, budget));
      json = JSON.stringify(payload);
    }
    return { Data: Buffer.from(json, "utf8"), PartitionKey: letter.partitionKey };
  }
}

/** The dead letter of a batch's stream record. */
export function letterOf(entry: BatchEntry, kind: DeadLetter["kind"], reason: string): DeadLetter {
  return {
    kind,
    reason,
    shardId: entry.shardId,
    sequenceNumber: entry.record.SequenceNumber,
    partitionKey: entry.record.PartitionKey,
    arrivalMs: entry.record.ApproximateArrivalTimestamp.getTime(),
    data: entry.record.Data,
  };
}
