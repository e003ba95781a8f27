/**
 * REST routes of the stream (docs/stream.md, "REST"), mounted under /api/v1 like the store's:
 *
 *   GET    /streams                               { StreamNames }
 *   POST   /streams                               { StreamName, ShardCount, RetentionPeriodHours? } → 201 description
 *   GET    /streams/:name                         StreamDescription
 *   GET    /streams/:name/stats                   { Shards: ShardStats[] }
 *   DELETE /streams/:name                         204
 *   POST   /streams/:name/records                 { Records: [{ Data (base64), PartitionKey, ExplicitHashKey? }] } → PutRecords output
 *   GET    /streams/:name/shards                  ?filter=AT_LATEST|AT_TRIM_HORIZON|FROM_TRIM_HORIZON|AFTER_SHARD_ID&shardId= → { Shards }
 *   POST   /streams/:name/shards/split            { ShardToSplit, NewStartingHashKey } → StreamDescription
 *   POST   /streams/:name/shards/merge            { ShardToMerge, AdjacentShardToMerge } → StreamDescription
 *   POST   /streams/:name/shard-count             { TargetShardCount } → UpdateShardCount's output
 *   GET    /streams/:name/shards/:shard/records   ?from=trim-horizon|latest|at:SEQ|after:SEQ|time:ISO|iterator:IT&limit=&waitMs=
 *
 * Record data travels as base64, as in Kinesis's JSON API.
 */
import { Hono } from "hono";
import { z } from "zod";
import { validationError } from "../../errors.js";
import { maxReadWaitMs, parseReadPosition, readShardPage } from "../../stream/connector/index.js";
import type { PutRecordInput, ShardFilter, StreamService } from "../../stream/index.js";

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const createSchema = z.object({
  StreamName: z.string(),
  ShardCount: z.number().int(),
  RetentionPeriodHours: z.number().int().optional(),
});

const splitSchema = z.object({ ShardToSplit: z.string(), NewStartingHashKey: z.string() });
const mergeSchema = z.object({ ShardToMerge: z.string(), AdjacentShardToMerge: z.string() });
const shardCountSchema = z.object({ TargetShardCount: z.number().int() });
const shardFilterTypes = ["AT_LATEST", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AFTER_SHARD_ID"] as const;

const putSchema = z.object({
  Records: z.array(
    z.object({
      Data: z.string().regex(base64Pattern, "Data must be base64"),
      PartitionKey: z.string(),
      ExplicitHashKey: z.string().optional(),
    }),
  ),
});

async function jsonBody<T>(c: { req: { json: () => Promise<unknown> } }, schema: z.ZodType<T>): Promise<T> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw validationError("the request body must be JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    throw validationError(`invalid request body: ${problems}`);
  }
  return parsed.data;
}

function integerParam(
  text: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw validationError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function streamRoutes(streams: StreamService): Hono {
  const app = new Hono();
  app.get("/streams", async (c) => c.json({ StreamNames: await streams.listStreams() }));
  app.post("/streams", async (c) => {
    const body = await jsonBody(c, createSchema);
    const opts = body.RetentionPeriodHours === undefined ? {} : { retentionHours: body.RetentionPeriodHours };
    return c.json(await streams.createStream(body.StreamName, body.ShardCount, opts), 201);
  });
  app.get("/streams/:name", async (c) => c.json(await streams.describeStream(c.req.param("name"))));
  app.get("/streams/:name/stats", async (c) =>
    c.json({ Shards: await streams.getShardStats(c.req.param("name")) }),
  );
  app.get("/streams/:name/shards", async (c) => {
    const type = c.req.query("filter");
    if (type !== undefined && !(shardFilterTypes as readonly string[]).includes(type)) {
      throw validationError(
        `filter must be one of ${shardFilterTypes.join(", ")}, got ${JSON.stringify(type)}`,
      );
    }
    const shardId = c.req.query("shardId");
    const filter =
      type === undefined
        ? undefined
        : { Type: type as ShardFilter["Type"], ...(shardId === undefined ? {} : { ShardId: shardId }) };
    return c.json({ Shards: await streams.listShards(c.req.param("name"), filter) });
  });
  app.post("/streams/:name/shards/split", async (c) => {
    const body = await jsonBody(c, splitSchema);
    await streams.splitShard(c.req.param("name"), body.ShardToSplit, body.NewStartingHashKey);
    return c.json(await streams.describeStream(c.req.param("name")));
  });
  app.post("/streams/:name/shards/merge", async (c) => {
    const body = await jsonBody(c, mergeSchema);
    await streams.mergeShards(c.req.param("name"), body.ShardToMerge, body.AdjacentShardToMerge);
    return c.json(await streams.describeStream(c.req.param("name")));
  });
  app.post("/streams/:name/shard-count", async (c) => {
    const body = await jsonBody(c, shardCountSchema);
    return c.json(await streams.updateShardCount(c.req.param("name"), body.TargetShardCount));
  });
  app.delete("/streams/:name", async (c) => {
    await streams.deleteStream(c.req.param("name"));
    return c.body(null, 204);
  });
  app.post("/streams/:name/records", async (c) => {
    const body = await jsonBody(c, putSchema);
    const records: PutRecordInput[] = body.Records.map((r) => ({
      Data: Buffer.from(r.Data, "base64"),
      PartitionKey: r.PartitionKey,
      ...(r.ExplicitHashKey === undefined ? {} : { ExplicitHashKey: r.ExplicitHashKey }),
    }));
    return c.json(await streams.putRecords(c.req.param("name"), records));
  });
  app.get("/streams/:name/shards/:shard/records", async (c) => {
    const position = parseReadPosition(c.req.query("from") ?? "trim-horizon");
    const limit = integerParam(c.req.query("limit"), "limit", 10_000, 1, 10_000);
    const waitMs = integerParam(c.req.query("waitMs"), "waitMs", 0, 0, maxReadWaitMs);
    const page = await readShardPage(streams, c.req.param("name"), c.req.param("shard"), position, {
      limit,
      waitMs,
    });
    return c.json({
      Records: page.Records.map((r) => ({
        SequenceNumber: r.SequenceNumber,
        ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp.toISOString(),
        Data: Buffer.from(r.Data).toString("base64"),
        PartitionKey: r.PartitionKey,
      })),
      NextShardIterator: page.NextShardIterator,
      MillisBehindLatest: page.MillisBehindLatest,
      ...(page.ChildShards === undefined ? {} : { ChildShards: page.ChildShards }),
    });
  });
  return app;
}
