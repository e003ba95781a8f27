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
 * Record data travels as base64, as in Kinesis's JSON API. Each route's schemas are declared with
 * it (src/api/openapi): they check the request and make the OpenAPI document.
 */
import { Hono } from "hono";
import { z } from "zod";
import { maxReadWaitMs, parseReadPosition, readShardPage } from "../../stream/connector/index.js";
import type { PutRecordInput, ShardFilter, StreamService } from "../../stream/index.js";
import { defineRoute, isoTime } from "../openapi/index.js";

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
      ExplicitHashKey: z.string().optional().describe("a decimal hash key in [0, 2^128 - 1]"),
    }),
  ),
});

/** A query parameter that is an integer in [min, max], with the fallback the route uses. */
function integerParam(name: string, min: number, max: number, fallback: number) {
  return z
    .string()
    .refine(
      (text) => text === "" || (Number.isInteger(Number(text)) && Number(text) >= min && Number(text) <= max),
      {
        error: (issue) => `${name} must be an integer in ${min}..${max}, got ${JSON.stringify(issue.input)}`,
      },
    )
    .transform((text) => (text === "" ? fallback : Number(text)))
    .optional()
    .describe(`${min}..${max}, default ${fallback}`);
}

const readQuery = z.object({
  from: z
    .string()
    .optional()
    .describe(
      "trim-horizon (default), latest, at:SEQ, after:SEQ, time:ISO, or iterator:IT (a NextShardIterator)",
    ),
  limit: integerParam("limit", 1, 10_000, 10_000),
  waitMs: integerParam("waitMs", 0, maxReadWaitMs, 0),
});

const streamParams = z.object({ name: z.string().describe("the stream's name") });
const shardParams = streamParams.extend({
  shard: z.string().describe("the shard's id, e.g. shardId-000000000000"),
});

const hashKeyRangeSchema = z.object({ StartingHashKey: z.string(), EndingHashKey: z.string() });

const shardSchema = z
  .object({
    ShardId: z.string(),
    ParentShardId: z.string().optional(),
    AdjacentParentShardId: z.string().optional().describe("the other parent of a merged shard"),
    HashKeyRange: hashKeyRangeSchema,
    SequenceNumberRange: z.object({
      StartingSequenceNumber: z.string(),
      EndingSequenceNumber: z.string().optional().describe("set once the shard is closed by a reshard"),
    }),
  })
  .meta({ id: "Shard" });

const streamDescriptionSchema = z
  .object({
    StreamName: z.string(),
    StreamARN: z.string(),
    StreamStatus: z.string(),
    StreamModeDetails: z.object({ StreamMode: z.string() }),
    RetentionPeriodHours: z.number().int(),
    StreamCreationTimestamp: isoTime,
    Shards: z.array(shardSchema),
    HasMoreShards: z.boolean(),
    EnhancedMonitoring: z.array(z.object({ ShardLevelMetrics: z.array(z.string()) })),
    EncryptionType: z.string(),
  })
  .meta({ id: "StreamDescription", description: "Kinesis's DescribeStream StreamDescription" });

const shardStatsSchema = z
  .object({
    ShardId: z.string(),
    FirstSequenceNumber: z.string().nullable().describe("the oldest record a reader can get; null when none"),
    LastSequenceNumber: z.string().nullable(),
    RecordCount: z.number().int().describe("records a reader at trim-horizon would get now"),
    LastArrivalTimestamp: isoTime.nullable(),
  })
  .meta({ id: "ShardStats" });

const putRecordsOutputSchema = z
  .object({
    FailedRecordCount: z.number().int(),
    Records: z.array(
      z.union([
        z.object({ ShardId: z.string(), SequenceNumber: z.string() }),
        z.object({ ErrorCode: z.string(), ErrorMessage: z.string() }),
      ]),
    ),
  })
  .meta({ id: "PutRecordsOutput", description: "one entry per input record, in order" });

const recordPageSchema = z.object({
  Records: z.array(
    z.object({
      SequenceNumber: z.string(),
      ApproximateArrivalTimestamp: isoTime,
      Data: z.string().describe("base64"),
      PartitionKey: z.string(),
    }),
  ),
  NextShardIterator: z
    .string()
    .nullable()
    .describe("pass it back as from=iterator:IT; null once the shard is closed and read"),
  MillisBehindLatest: z.number(),
  ChildShards: z
    .array(
      z.object({ ShardId: z.string(), ParentShards: z.array(z.string()), HashKeyRange: hashKeyRangeSchema }),
    )
    .optional()
    .describe("the children of a closed shard, once it has been read to its end"),
});

const tag = "Streams";
const noStream = { 404: "the stream does not exist" };

export function streamRoutes(streams: StreamService): Hono {
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "get",
      path: "/streams",
      tag,
      summary: "List the streams",
      responses: {
        200: { description: "their names", schema: z.object({ StreamNames: z.array(z.string()) }) },
      },
    },
    async (c) => c.json({ StreamNames: await streams.listStreams() }),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/streams",
      tag,
      summary: "Create a stream",
      body: createSchema,
      responses: { 201: { description: "the stream", schema: streamDescriptionSchema } },
      errors: { 409: "a stream of that name exists" },
    },
    async (c, { body }) => {
      const opts =
        body.RetentionPeriodHours === undefined ? {} : { retentionHours: body.RetentionPeriodHours };
      return c.json(await streams.createStream(body.StreamName, body.ShardCount, opts), 201);
    },
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/streams/:name",
      tag,
      summary: "Describe a stream",
      params: streamParams,
      responses: { 200: { description: "the stream", schema: streamDescriptionSchema } },
      errors: noStream,
    },
    async (c, { params }) => c.json(await streams.describeStream(params.name)),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/streams/:name/stats",
      tag,
      summary: "Each shard's record count and newest record",
      params: streamParams,
      responses: {
        200: { description: "the shards", schema: z.object({ Shards: z.array(shardStatsSchema) }) },
      },
      errors: noStream,
    },
    async (c, { params }) => c.json({ Shards: await streams.getShardStats(params.name) }),
  );
  defineRoute(
    app,
    {
      method: "delete",
      path: "/streams/:name",
      tag,
      summary: "Delete a stream and its records",
      params: streamParams,
      responses: { 204: { description: "deleted" } },
      errors: noStream,
    },
    async (c, { params }) => {
      await streams.deleteStream(params.name);
      return c.body(null, 204);
    },
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/streams/:name/records",
      tag,
      summary: "Put records (Kinesis's PutRecords)",
      params: streamParams,
      body: putSchema,
      responses: { 200: { description: "one result per record", schema: putRecordsOutputSchema } },
      errors: noStream,
    },
    async (c, { params, body }) => {
      const records: PutRecordInput[] = body.Records.map((r) => ({
        Data: Buffer.from(r.Data, "base64"),
        PartitionKey: r.PartitionKey,
        ...(r.ExplicitHashKey === undefined ? {} : { ExplicitHashKey: r.ExplicitHashKey }),
      }));
      return c.json(await streams.putRecords(params.name, records));
    },
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/streams/:name/shards/:shard/records",
      tag,
      summary: "Read a page of a shard's records",
      description: "With waitMs, an empty page waits up to that long for a record to arrive.",
      params: shardParams,
      query: readQuery,
      responses: { 200: { description: "the records and where to go on", schema: recordPageSchema } },
      errors: { 404: "the stream or the shard does not exist" },
    },
    async (c, { params, query }) => {
      const position = parseReadPosition(query.from ?? "trim-horizon");
      const page = await readShardPage(streams, params.name, params.shard, position, {
        limit: query.limit ?? 10_000,
        waitMs: query.waitMs ?? 0,
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
    },
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/streams/:name/shards",
      tag,
      summary: "List a stream's shards, with their lineage (Kinesis's ListShards)",
      params: streamParams,
      query: z.object({
        filter: z
          .enum(shardFilterTypes)
          .optional()
          .describe("Kinesis's ShardFilter Type; default: every shard"),
        shardId: z.string().optional().describe("the ShardId AFTER_SHARD_ID starts after"),
      }),
      responses: { 200: { description: "the shards", schema: z.object({ Shards: z.array(shardSchema) }) } },
      errors: noStream,
    },
    async (c, { params, query }) => {
      const filter =
        query.filter === undefined
          ? undefined
          : ({
              Type: query.filter,
              ...(query.shardId === undefined ? {} : { ShardId: query.shardId }),
            } as ShardFilter);
      return c.json({ Shards: await streams.listShards(params.name, filter) });
    },
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/streams/:name/shards/split",
      tag,
      summary: "Split a shard in two at a hash key (Kinesis's SplitShard)",
      params: streamParams,
      body: splitSchema,
      responses: { 200: { description: "the stream after the split", schema: streamDescriptionSchema } },
      errors: { ...noStream, 409: "another reshard is running" },
    },
    async (c, { params, body }) => {
      await streams.splitShard(params.name, body.ShardToSplit, body.NewStartingHashKey);
      return c.json(await streams.describeStream(params.name));
    },
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/streams/:name/shards/merge",
      tag,
      summary: "Merge two adjacent shards (Kinesis's MergeShards)",
      params: streamParams,
      body: mergeSchema,
      responses: { 200: { description: "the stream after the merge", schema: streamDescriptionSchema } },
      errors: { ...noStream, 409: "another reshard is running" },
    },
    async (c, { params, body }) => {
      await streams.mergeShards(params.name, body.ShardToMerge, body.AdjacentShardToMerge);
      return c.json(await streams.describeStream(params.name));
    },
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/streams/:name/shard-count",
      tag,
      summary: "Change the number of open shards (Kinesis's UpdateShardCount, UNIFORM_SCALING)",
      params: streamParams,
      body: shardCountSchema,
      responses: {
        200: {
          description: "Kinesis's UpdateShardCount output",
          schema: z.object({
            StreamName: z.string(),
            StreamARN: z.string(),
            CurrentShardCount: z.number().int(),
            TargetShardCount: z.number().int(),
          }),
        },
      },
      errors: { ...noStream, 409: "another reshard is running" },
    },
    async (c, { params, body }) => c.json(await streams.updateShardCount(params.name, body.TargetShardCount)),
  );
  return app;
}
