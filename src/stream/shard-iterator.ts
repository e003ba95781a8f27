import { z } from "zod";
import { HourglassError, validationError } from "../errors.js";
import { shardIteratorTtlMs } from "./limits.js";

/**
 * Shard iterators are opaque to clients: base64url of a small JSON with the stream (and its creation
 * time, so an iterator of a deleted and re-created stream is refused), the shard, the offset to read
 * next and an expiry time 5 minutes after it was handed out, as Kinesis.
 */
export interface IteratorPosition {
  streamName: string;
  streamCreatedMs: number;
  shardIndex: number;
  offset: number;
}

const payloadSchema = z.object({
  v: z.literal(1),
  s: z.string().min(1),
  c: z.number().int().nonnegative(),
  h: z.number().int().nonnegative(),
  o: z.number().int().nonnegative(),
  e: z.number().int().nonnegative(),
});

export function encodeShardIterator(position: IteratorPosition, nowMs: number): string {
  const payload: z.infer<typeof payloadSchema> = {
    v: 1,
    s: position.streamName,
    c: position.streamCreatedMs,
    h: position.shardIndex,
    o: position.offset,
    e: Math.trunc(nowMs) + shardIteratorTtlMs,
  };
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

/** Decodes an iterator; ValidationError for garbage, and for an expired one with awsCode ExpiredIteratorException. */
export function decodeShardIterator(iterator: unknown, nowMs: number): IteratorPosition {
  let payload: z.infer<typeof payloadSchema>;
  try {
    if (typeof iterator !== "string" || iterator.length === 0 || iterator.length > 512)
      throw new Error("shape");
    payload = payloadSchema.parse(JSON.parse(Buffer.from(iterator, "base64url").toString("utf8")));
  } catch {
    throw validationError("invalid shard iterator", { awsCode: "InvalidArgumentException" });
  }
  if (nowMs > payload.e) {
    throw new HourglassError(
      "ValidationError",
      "shard iterator expired: get a new one with GetShardIterator",
      {
        context: { awsCode: "ExpiredIteratorException", expiredAt: new Date(payload.e).toISOString() },
      },
    );
  }
  return { streamName: payload.s, streamCreatedMs: payload.c, shardIndex: payload.h, offset: payload.o };
}
