/**
 * Kinesis Data Streams (`Kinesis_20131202.*`, JSON 1.1) over the stream service: streams, shards,
 * PutRecord(s), GetShardIterator, GetRecords, retention, resharding (SplitShard, MergeShards,
 * UpdateShardCount). Data is base64 in JSON; streams may be
 * named by StreamName or StreamARN. Errors keep the names the stream service gives them.
 */
import { z } from "zod";
import { validationError } from "../../errors.js";
import type { ShardDescription, ShardFilter, ShardIteratorType, StreamService } from "../../stream/index.js";
import { decodePageToken, pageOf } from "./page-token.js";
import {
  decodeBlob,
  encodeBlob,
  type Operation,
  type OperationInput,
  parseInput,
  protocolError,
} from "./protocol.js";

/** Kinesis's default and largest page sizes of ListStreams, ListShards and DescribeStream. */
const defaultListLimit = 100;
const defaultListShardsLimit = 1000;
const maxListLimit = 10_000;
/** Kinesis gives an on-demand stream 4 shards to start with. */
const onDemandShardCount = 4;

const streamRef = {
  StreamName: z.string().optional(),
  StreamARN: z.string().optional(),
};
const recordSchema = z.object({
  Data: z.string(),
  PartitionKey: z.string(),
  ExplicitHashKey: z.string().optional(),
});
const iteratorTypes = [
  "TRIM_HORIZON",
  "LATEST",
  "AT_SEQUENCE_NUMBER",
  "AFTER_SEQUENCE_NUMBER",
  "AT_TIMESTAMP",
] as const satisfies readonly ShardIteratorType[];

/** The stream a request names, by StreamName or by the name at the end of StreamARN. */
function streamName(req: { StreamName?: string; StreamARN?: string }): string {
  if (req.StreamName !== undefined) return req.StreamName;
  if (req.StreamARN !== undefined) {
    const match = /^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/([^/]+)$/.exec(req.StreamARN);
    if (!match) throw validationError(`StreamARN '${req.StreamARN}' is not a Kinesis stream ARN`);
    return match[1]!;
  }
  throw protocolError("ValidationException", "StreamName or StreamARN is required");
}

function toDate(value: number | string, member: string): Date {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) throw validationError(`${member} is not a valid timestamp`);
  return date;
}

export function kinesisOperations(stream: StreamService): Record<string, Operation> {
  const summary = async (name: string) => {
    const d = await stream.describeStream(name);
    return {
      StreamName: d.StreamName,
      StreamARN: d.StreamARN,
      StreamStatus: d.StreamStatus,
      StreamModeDetails: d.StreamModeDetails,
      StreamCreationTimestamp: d.StreamCreationTimestamp,
    };
  };
  const shardKey = (name: string) => (s: ShardDescription) => `${name}/${s.ShardId}`;

  return {
    async CreateStream(input) {
      const req = parseInput(
        z.object({
          StreamName: z.string(),
          ShardCount: z.number().int().optional(),
          StreamModeDetails: z.object({ StreamMode: z.enum(["PROVISIONED", "ON_DEMAND"]) }).optional(),
          Tags: z.record(z.string(), z.string()).optional(),
        }),
        input,
        "CreateStream",
      );
      // Streams here are always provisioned: ON_DEMAND gets Kinesis's initial shard count, fixed.
      const onDemand = req.StreamModeDetails?.StreamMode === "ON_DEMAND";
      const shards = req.ShardCount ?? (onDemand ? onDemandShardCount : undefined);
      if (shards === undefined) {
        throw validationError("ShardCount is required for a PROVISIONED stream", {
          awsCode: "InvalidArgumentException",
        });
      }
      await stream.createStream(req.StreamName, shards);
      return {};
    },

    async DescribeStream(input) {
      const req = parseInput(
        z.object({
          ...streamRef,
          Limit: z.number().int().min(1).max(maxListLimit).optional(),
          ExclusiveStartShardId: z.string().optional(),
        }),
        input,
        "DescribeStream",
      );
      const name = streamName(req);
      const d = await stream.describeStream(name);
      const after =
        req.ExclusiveStartShardId === undefined ? undefined : `${name}/${req.ExclusiveStartShardId}`;
      const { page, nextToken } = pageOf(d.Shards, shardKey(name), after, req.Limit ?? defaultListLimit);
      return { StreamDescription: { ...d, Shards: page, HasMoreShards: nextToken !== undefined } };
    },

    async DescribeStreamSummary(input) {
      const req = parseInput(z.object(streamRef), input, "DescribeStreamSummary");
      const d = await stream.describeStream(streamName(req));
      return {
        StreamDescriptionSummary: {
          StreamName: d.StreamName,
          StreamARN: d.StreamARN,
          StreamStatus: d.StreamStatus,
          StreamModeDetails: d.StreamModeDetails,
          RetentionPeriodHours: d.RetentionPeriodHours,
          StreamCreationTimestamp: d.StreamCreationTimestamp,
          EnhancedMonitoring: d.EnhancedMonitoring,
          EncryptionType: d.EncryptionType,
          OpenShardCount: d.Shards.filter((s) => s.SequenceNumberRange.EndingSequenceNumber === undefined)
            .length,
          ConsumerCount: 0,
        },
      };
    },

    async ListStreams(input) {
      const req = parseInput(
        z.object({
          Limit: z.number().int().min(1).max(maxListLimit).optional(),
          ExclusiveStartStreamName: z.string().optional(),
          NextToken: z.string().optional(),
        }),
        input,
        "ListStreams",
      );
      const after =
        req.NextToken !== undefined
          ? decodePageToken(req.NextToken, "InvalidArgumentException")
          : req.ExclusiveStartStreamName;
      const names = await stream.listStreams();
      const { page, nextToken } = pageOf(names, (n) => n, after, req.Limit ?? defaultListLimit);
      return {
        StreamNames: page,
        HasMoreStreams: nextToken !== undefined,
        ...(nextToken ? { NextToken: nextToken } : {}),
        StreamSummaries: await Promise.all(page.map(summary)),
      };
    },

    async ListShards(input) {
      const req = parseInput(
        z.object({
          ...streamRef,
          NextToken: z.string().optional(),
          ExclusiveStartShardId: z.string().optional(),
          MaxResults: z.number().int().min(1).max(maxListLimit).optional(),
          StreamCreationTimestamp: z.unknown().optional(),
          ShardFilter: z
            .object({
              Type: z.enum([
                "AFTER_SHARD_ID",
                "AT_TRIM_HORIZON",
                "FROM_TRIM_HORIZON",
                "AT_LATEST",
                "AT_TIMESTAMP",
                "FROM_TIMESTAMP",
              ]),
              ShardId: z.string().optional(),
              Timestamp: z.unknown().optional(),
            })
            .optional(),
        }),
        input,
        "ListShards",
      );
      let name: string;
      let after: string | undefined;
      let filter: ShardFilter | undefined;
      if (req.NextToken !== undefined) {
        // As Kinesis: the token already names the stream, so naming it again is an error.
        if (req.StreamName !== undefined || req.StreamARN !== undefined) {
          throw validationError("NextToken and StreamName/StreamARN cannot be given together", {
            awsCode: "InvalidArgumentException",
          });
        }
        // The token's key is "<stream>/<shard id>", then the first page's filter (if any) after a
        // NUL, so every page lists the same selection.
        after = decodePageToken(req.NextToken, "InvalidArgumentException");
        const [key, filterText] = after.split("\u0000");
        name = key!.slice(0, key!.lastIndexOf("/"));
        filter = filterText === undefined ? undefined : shardFilterOfToken(filterText);
      } else {
        name = streamName(req);
        const given = req.ShardFilter;
        filter = given && {
          Type: given.Type,
          ...(given.ShardId === undefined ? {} : { ShardId: given.ShardId }),
          ...(given.Timestamp === undefined
            ? {}
            : { Timestamp: toDate(given.Timestamp as number | string, "ShardFilter.Timestamp") }),
        };
        after = req.ExclusiveStartShardId === undefined ? undefined : `${name}/${req.ExclusiveStartShardId}`;
      }
      const suffix = filter === undefined ? "" : `\u0000${shardFilterToken(filter)}`;
      if (after !== undefined && !after.includes("\u0000")) after += suffix;
      const shards = await stream.listShards(name, filter);
      const { page, nextToken } = pageOf(
        shards,
        (s) => `${name}/${s.ShardId}${suffix}`,
        after,
        req.MaxResults ?? defaultListShardsLimit,
      );
      return { Shards: page, ...(nextToken ? { NextToken: nextToken } : {}) };
    },

    async DeleteStream(input) {
      const req = parseInput(
        z.object({ ...streamRef, EnforceConsumerDeletion: z.boolean().optional() }),
        input,
        "DeleteStream",
      );
      await stream.deleteStream(streamName(req));
      return {};
    },

    async PutRecord(input) {
      const req = parseInput(
        recordSchema.extend({ ...streamRef, SequenceNumberForOrdering: z.string().optional() }),
        input,
        "PutRecord",
      );
      // SequenceNumberForOrdering needs no handling: a shard's records are already in arrival order.
      const out = await stream.putRecord(streamName(req), {
        Data: decodeBlob(req.Data, "Data"),
        PartitionKey: req.PartitionKey,
        ...(req.ExplicitHashKey === undefined ? {} : { ExplicitHashKey: req.ExplicitHashKey }),
      });
      return { ...out, EncryptionType: "NONE" };
    },

    async PutRecords(input) {
      const req = parseInput(z.object({ ...streamRef, Records: z.array(recordSchema) }), input, "PutRecords");
      const records = req.Records.map((r, i) => ({
        Data: decodeBlob(r.Data, `Records.${i}.Data`),
        PartitionKey: r.PartitionKey,
        ...(r.ExplicitHashKey === undefined ? {} : { ExplicitHashKey: r.ExplicitHashKey }),
      }));
      const out = await stream.putRecords(streamName(req), records);
      return { ...out, EncryptionType: "NONE" };
    },

    async GetShardIterator(input) {
      const req = parseInput(
        z.object({
          ...streamRef,
          ShardId: z.string(),
          ShardIteratorType: z.enum(iteratorTypes),
          StartingSequenceNumber: z.string().optional(),
          Timestamp: z.union([z.number(), z.string()]).optional(),
        }),
        input,
        "GetShardIterator",
      );
      const iterator = await stream.getShardIterator(streamName(req), req.ShardId, req.ShardIteratorType, {
        ...(req.StartingSequenceNumber === undefined
          ? {}
          : { StartingSequenceNumber: req.StartingSequenceNumber }),
        ...(req.Timestamp === undefined ? {} : { Timestamp: toDate(req.Timestamp, "Timestamp") }),
      });
      return { ShardIterator: iterator };
    },

    async GetRecords(input) {
      const req = parseInput(
        z.object({
          ShardIterator: z.string(),
          Limit: z.number().int().optional(),
          StreamARN: z.string().optional(),
        }),
        input,
        "GetRecords",
      );
      const out = await stream.getRecords(req.ShardIterator, req.Limit);
      return {
        Records: out.Records.map((r) => ({
          SequenceNumber: r.SequenceNumber,
          ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp,
          Data: encodeBlob(r.Data),
          PartitionKey: r.PartitionKey,
        })),
        NextShardIterator: out.NextShardIterator,
        MillisBehindLatest: out.MillisBehindLatest,
        ...(out.ChildShards === undefined ? {} : { ChildShards: out.ChildShards }),
      };
    },

    async SplitShard(input) {
      const req = parseInput(
        z.object({ ...streamRef, ShardToSplit: z.string(), NewStartingHashKey: z.string() }),
        input,
        "SplitShard",
      );
      await stream.splitShard(streamName(req), req.ShardToSplit, req.NewStartingHashKey);
      return {};
    },

    async MergeShards(input) {
      const req = parseInput(
        z.object({ ...streamRef, ShardToMerge: z.string(), AdjacentShardToMerge: z.string() }),
        input,
        "MergeShards",
      );
      await stream.mergeShards(streamName(req), req.ShardToMerge, req.AdjacentShardToMerge);
      return {};
    },

    async UpdateShardCount(input) {
      const req = parseInput(
        z.object({
          ...streamRef,
          TargetShardCount: z.number().int(),
          ScalingType: z.literal("UNIFORM_SCALING"),
        }),
        input,
        "UpdateShardCount",
      );
      return stream.updateShardCount(streamName(req), req.TargetShardCount);
    },

    IncreaseStreamRetentionPeriod: (input) => changeRetention(stream, input, "IncreaseStreamRetentionPeriod"),
    DecreaseStreamRetentionPeriod: (input) => changeRetention(stream, input, "DecreaseStreamRetentionPeriod"),
  };
}

function shardFilterToken(filter: ShardFilter): string {
  return JSON.stringify({ ...filter, Timestamp: filter.Timestamp?.getTime() });
}

function shardFilterOfToken(text: string): ShardFilter {
  try {
    const parsed = JSON.parse(text) as { Type: ShardFilter["Type"]; ShardId?: string; Timestamp?: number };
    return {
      Type: parsed.Type,
      ...(parsed.ShardId === undefined ? {} : { ShardId: parsed.ShardId }),
      ...(parsed.Timestamp === undefined ? {} : { Timestamp: new Date(parsed.Timestamp) }),
    };
  } catch {
    throw protocolError("InvalidArgumentException", "NextToken is not a token this server returned");
  }
}

/** As Kinesis: Increase may not shorten the retention and Decrease may not lengthen it. */
async function changeRetention(
  stream: StreamService,
  input: OperationInput,
  operation: "IncreaseStreamRetentionPeriod" | "DecreaseStreamRetentionPeriod",
): Promise<object> {
  const req = parseInput(
    z.object({ ...streamRef, RetentionPeriodHours: z.number().int() }),
    input,
    operation,
  );
  const name = streamName(req);
  const current = (await stream.describeStream(name)).RetentionPeriodHours;
  const increase = operation === "IncreaseStreamRetentionPeriod";
  if (increase ? req.RetentionPeriodHours < current : req.RetentionPeriodHours > current) {
    throw validationError(
      `${operation}: the requested retention (${req.RetentionPeriodHours} h) is ${increase ? "shorter" : "longer"} than stream ${name}'s current ${current} h; use ${increase ? "DecreaseStreamRetentionPeriod" : "IncreaseStreamRetentionPeriod"}`,
      { awsCode: "InvalidArgumentException" },
    );
  }
  await stream.updateRetention(name, req.RetentionPeriodHours);
  return {};
}
