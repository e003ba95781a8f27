import { validationError } from "../errors.js";

/**
 * Sequence numbers are fixed-width decimal strings, 56 digits like Kinesis's, so that string order
 * is numeric order. Layout: "49" | shard index (6 digits) | offset within the shard (48 digits).
 * The offset counts every record the shard ever accepted (0, 1, 2, ...), so within a shard the
 * numbers are dense and the count of records between two of them is a subtraction.
 */
export const sequenceNumberDigits = 56;
const prefix = "49";
const shardDigits = 6;
const offsetDigits = sequenceNumberDigits - prefix.length - shardDigits;
const pattern = new RegExp(`^${prefix}(\\d{${shardDigits}})(\\d{${offsetDigits}})$`);

export interface SequencePosition {
  shardIndex: number;
  offset: number;
}

/** "49" and the shard index, per shard: every acknowledged record gets a sequence number. */
const shardPrefixes: string[] = [];
const zeros = "0".repeat(offsetDigits);

export function formatSequenceNumber(shardIndex: number, offset: number): string {
  let head = shardPrefixes[shardIndex];
  if (head === undefined) {
    head = prefix + String(shardIndex).padStart(shardDigits, "0");
    shardPrefixes[shardIndex] = head;
  }
  const digits = String(offset);
  return head + zeros.slice(digits.length) + digits;
}

/** Parses a sequence number made by formatSequenceNumber; throws ValidationError for anything else. */
export function parseSequenceNumber(sequenceNumber: unknown): SequencePosition {
  const match = typeof sequenceNumber === "string" ? pattern.exec(sequenceNumber) : null;
  if (!match) {
    throw validationError(`invalid sequence number ${JSON.stringify(sequenceNumber)}`, {
      awsCode: "InvalidArgumentException",
    });
  }
  const offset = Number(match[2]);
  if (!Number.isSafeInteger(offset)) {
    throw validationError(`sequence number ${sequenceNumber} is out of range`, {
      awsCode: "InvalidArgumentException",
    });
  }
  return { shardIndex: Number(match[1]), offset };
}

/** Shard ids as Kinesis spells them: "shardId-" and 12 digits. */
export function formatShardId(shardIndex: number): string {
  return `shardId-${String(shardIndex).padStart(12, "0")}`;
}

const shardIdPattern = /^shardId-(\d{12})$/;

export function parseShardId(shardId: unknown): number {
  const match = typeof shardId === "string" ? shardIdPattern.exec(shardId) : null;
  if (!match) throw validationError(`invalid shard id ${JSON.stringify(shardId)}`);
  return Number(match[1]);
}
