import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  InvalidArgumentException,
  type KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
} from "@aws-sdk/client-kinesis";
import { failure, kinesisClient, rawAwsCall, startTestServer, type TestServer } from "./helpers.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

describe("Kinesis through @aws-sdk/client-kinesis (HTTP/2, as the SDK sends by default)", () => {
  let t: TestServer;
  let client: KinesisClient;

  before(async () => {
    t = await startTestServer();
    client = kinesisClient(t.server.url);
  });
  after(async () => {
    client.destroy();
    await t.close();
  });

  it("creates a stream and describes it, its summary and its shards", async () => {
    await client.send(new CreateStreamCommand({ StreamName: "metrics", ShardCount: 3 }));
    const described = await client.send(new DescribeStreamCommand({ StreamName: "metrics" }));
    const d = described.StreamDescription;
    assert.equal(d?.StreamStatus, "ACTIVE");
    assert.equal(d?.RetentionPeriodHours, 24);
    assert.ok(d?.StreamCreationTimestamp instanceof Date);
    assert.deepEqual(
      d?.Shards?.map((s) => s.ShardId),
      ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"],
    );
    assert.equal(d?.Shards?.[0]?.HashKeyRange?.StartingHashKey, "0");
    assert.equal(d?.HasMoreShards, false);

    const firstTwo = await client.send(new DescribeStreamCommand({ StreamName: "metrics", Limit: 2 }));
    assert.equal(firstTwo.StreamDescription?.Shards?.length, 2);
    assert.equal(firstTwo.StreamDescription?.HasMoreShards, true);

    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamARN: d?.StreamARN }));
    assert.equal(summary.StreamDescriptionSummary?.OpenShardCount, 3);
    assert.equal(summary.StreamDescriptionSummary?.StreamName, "metrics");

    const shards: string[] = [];
    let page = await client.send(new ListShardsCommand({ StreamName: "metrics", MaxResults: 2 }));
    shards.push(...(page.Shards ?? []).map((s) => s.ShardId ?? ""));
    assert.ok(page.NextToken);
    page = await client.send(new ListShardsCommand({ NextToken: page.NextToken }));
    shards.push(...(page.Shards ?? []).map((s) => s.ShardId ?? ""));
    assert.equal(page.NextToken, undefined);
    assert.deepEqual(
      shards,
      d?.Shards?.map((s) => s.ShardId),
    );
  });

  it("lists streams with paging", async () => {
    await client.send(new CreateStreamCommand({ StreamName: "events", ShardCount: 1 }));
    await client.send(
      new CreateStreamCommand({ StreamName: "on-demand", StreamModeDetails: { StreamMode: "ON_DEMAND" } }),
    );
    const first = await client.send(new ListStreamsCommand({ Limit: 2 }));
    assert.deepEqual(first.StreamNames, ["events", "metrics"]);
    assert.equal(first.HasMoreStreams, true);
    assert.equal(first.StreamSummaries?.[0]?.StreamName, "events");
    const second = await client.send(new ListStreamsCommand({ NextToken: first.NextToken }));
    assert.deepEqual(second.StreamNames, ["on-demand"]);
    assert.equal(second.HasMoreStreams, false);
    const onDemand = await client.send(new DescribeStreamSummaryCommand({ StreamName: "on-demand" }));
    assert.equal(onDemand.StreamDescriptionSummary?.OpenShardCount, 4);
    // The same streams through the REST routes, mounted next to the store's.
    const rest = (await (await fetch(`${t.server.url}/api/v1/streams`)).json()) as { StreamNames: string[] };
    assert.deepEqual(rest.StreamNames, ["events", "metrics", "on-demand"]);
  });

  it("puts records and reads them back from a shard iterator, bytes intact", async () => {
    const one = await client.send(
      new PutRecordCommand({ StreamName: "events", Data: bytes("first"), PartitionKey: "host-1" }),
    );
    assert.equal(one.ShardId, "shardId-000000000000");
    const binary = new Uint8Array([0, 255, 1, 254, 10, 13]);
    const many = await client.send(
      new PutRecordsCommand({
        StreamName: "events",
        Records: [
          { Data: bytes("second"), PartitionKey: "host-2" },
          { Data: binary, PartitionKey: "host-3" },
          { Data: bytes("bad key"), PartitionKey: "" },
        ],
      }),
    );
    assert.equal(many.FailedRecordCount, 1);
    assert.equal(many.Records?.[2]?.ErrorCode, "InvalidArgumentException");
    assert.ok((many.Records?.[1]?.SequenceNumber ?? "") > (one.SequenceNumber ?? ""));

    const iterator = await client.send(
      new GetShardIteratorCommand({
        StreamName: "events",
        ShardId: "shardId-000000000000",
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const got = await client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 2 }));
    assert.deepEqual(
      got.Records?.map((r) => [text(r.Data), r.PartitionKey]),
      [
        ["first", "host-1"],
        ["second", "host-2"],
      ],
    );
    assert.ok(got.Records?.[0]?.ApproximateArrivalTimestamp instanceof Date);
    assert.ok((got.MillisBehindLatest ?? -1) >= 0);
    const next = await client.send(new GetRecordsCommand({ ShardIterator: got.NextShardIterator }));
    assert.deepEqual([...(next.Records?.[0]?.Data ?? [])], [...binary]);
    assert.equal(next.MillisBehindLatest, 0);

    const after = await client.send(
      new GetShardIteratorCommand({
        StreamName: "events",
        ShardId: "shardId-000000000000",
        ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber: one.SequenceNumber,
      }),
    );
    const fromSecond = await client.send(new GetRecordsCommand({ ShardIterator: after.ShardIterator }));
    assert.equal(text(fromSecond.Records?.[0]?.Data), "second");

    const atTime = await client.send(
      new GetShardIteratorCommand({
        StreamName: "events",
        ShardId: "shardId-000000000000",
        ShardIteratorType: "AT_TIMESTAMP",
        Timestamp: new Date(0),
      }),
    );
    const fromStart = await client.send(new GetRecordsCommand({ ShardIterator: atTime.ShardIterator }));
    assert.equal(fromStart.Records?.length, 3);
  });

  it("changes retention both ways, and refuses a change in the wrong direction", async () => {
    await client.send(
      new IncreaseStreamRetentionPeriodCommand({ StreamName: "events", RetentionPeriodHours: 48 }),
    );
    await client.send(
      new DecreaseStreamRetentionPeriodCommand({ StreamName: "events", RetentionPeriodHours: 36 }),
    );
    const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: "events" }));
    assert.equal(d.StreamDescriptionSummary?.RetentionPeriodHours, 36);
    const wrongWay = await failure(
      client.send(
        new IncreaseStreamRetentionPeriodCommand({ StreamName: "events", RetentionPeriodHours: 24 }),
      ),
    );
    assert.ok(wrongWay instanceof InvalidArgumentException, `got ${wrongWay.name}`);
    assert.match(wrongWay.message, /DecreaseStreamRetentionPeriod/);
    const tooShort = await failure(
      client.send(
        new DecreaseStreamRetentionPeriodCommand({ StreamName: "events", RetentionPeriodHours: 1 }),
      ),
    );
    assert.ok(tooShort instanceof InvalidArgumentException, `got ${tooShort.name}`);
  });

  it("raises the SDK's named exceptions", async () => {
    const missing = await failure(client.send(new DescribeStreamCommand({ StreamName: "nope" })));
    assert.ok(missing instanceof ResourceNotFoundException, `got ${missing.name}`);
    assert.equal((missing.$metadata as { httpStatusCode: number }).httpStatusCode, 400);

    const exists = await failure(
      client.send(new CreateStreamCommand({ StreamName: "events", ShardCount: 1 })),
    );
    assert.ok(exists instanceof ResourceInUseException, `got ${exists.name}`);

    const noShards = await failure(client.send(new CreateStreamCommand({ StreamName: "zero" })));
    assert.ok(noShards instanceof InvalidArgumentException, `got ${noShards.name}`);
    assert.match(noShards.message, /ShardCount/);

    const badName = await failure(client.send(new CreateStreamCommand({ StreamName: "a/b", ShardCount: 1 })));
    assert.ok(badName instanceof ValidationException, `got ${badName.name}`);

    const badIterator = await failure(
      client.send(new GetRecordsCommand({ ShardIterator: "not-an-iterator" })),
    );
    assert.ok(badIterator instanceof InvalidArgumentException, `got ${badIterator.name}`);

    const unknownShard = await failure(
      client.send(
        new GetShardIteratorCommand({
          StreamName: "events",
          ShardId: "shardId-000000000009",
          ShardIteratorType: "LATEST",
        }),
      ),
    );
    assert.ok(unknownShard instanceof ResourceNotFoundException, `got ${unknownShard.name}`);

    const tooMany = await failure(
      client.send(
        new PutRecordsCommand({
          StreamName: "events",
          Records: Array.from({ length: 501 }, () => ({ Data: bytes("x"), PartitionKey: "k" })),
        }),
      ),
    );
    assert.ok(tooMany instanceof ValidationException, `got ${tooMany.name}`);
    assert.match(tooMany.message, /1\.\.500/);
  });

  it("speaks JSON 1.1 over HTTP/1.1 too (boto3's way), with base64 data and epoch-second timestamps", async () => {
    const url = t.server.url;
    const put = await rawAwsCall(
      url,
      "Kinesis_20131202.PutRecord",
      JSON.stringify({
        StreamName: "events",
        Data: Buffer.from("over http/1.1").toString("base64"),
        PartitionKey: "p",
      }),
      "application/x-amz-json-1.1",
    );
    assert.equal(put.status, 200);
    assert.equal(put.headers.get("content-type"), "application/x-amz-json-1.1");
    const iterator = await rawAwsCall(
      url,
      "Kinesis_20131202.GetShardIterator",
      JSON.stringify({
        StreamName: "events",
        ShardId: put.json["ShardId"],
        ShardIteratorType: "AT_SEQUENCE_NUMBER",
        StartingSequenceNumber: put.json["SequenceNumber"],
      }),
      "application/x-amz-json-1.1",
    );
    const got = await rawAwsCall(
      url,
      "Kinesis_20131202.GetRecords",
      JSON.stringify({ ShardIterator: iterator.json["ShardIterator"] }),
      "application/x-amz-json-1.1",
    );
    const record = (got.json["Records"] as Record<string, unknown>[])[0]!;
    assert.equal(Buffer.from(String(record["Data"]), "base64").toString(), "over http/1.1");
    const arrival = record["ApproximateArrivalTimestamp"];
    assert.equal(typeof arrival, "number");
    assert.ok(Math.abs((arrival as number) * 1000 - Date.now()) < 60_000, "epoch seconds, near now");

    const badData = await rawAwsCall(
      url,
      "Kinesis_20131202.PutRecord",
      JSON.stringify({ StreamName: "events", Data: "not base64!", PartitionKey: "p" }),
      "application/x-amz-json-1.1",
    );
    assert.equal(badData.status, 400);
    assert.equal(badData.json["__type"], "SerializationException");
    assert.match(String(badData.json["message"]), /base64/);
  });

  it("deletes a stream", async () => {
    await client.send(new DeleteStreamCommand({ StreamName: "on-demand" }));
    const gone = await failure(client.send(new DescribeStreamSummaryCommand({ StreamName: "on-demand" })));
    assert.ok(gone instanceof ResourceNotFoundException, `got ${gone.name}`);
  });
});
