import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  type KinesisClient,
  LimitExceededException,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
  SplitShardCommand,
  UpdateShardCountCommand,
  waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";
import { credentials, failure, kinesisClient, startTestServer, type TestServer } from "./helpers.js";

const maxKey = (1n << 128n) - 1n;
const half = ((maxKey + 1n) / 2n).toString();
const bytes = (text: string) => new TextEncoder().encode(text);

describe("resharding through @aws-sdk/client-kinesis", () => {
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

  it("splits, merges and updates the shard count; ListShards, DescribeStream and GetRecords show the lineage", async () => {
    await client.send(new CreateStreamCommand({ StreamName: "sdk", ShardCount: 2 }));
    const put = (prefix: string) =>
      client.send(
        new PutRecordsCommand({
          StreamName: "sdk",
          Records: Array.from({ length: 40 }, (_, i) => ({
            Data: bytes(`${prefix}${i}`),
            PartitionKey: `k${i}`,
          })),
        }),
      );
    await put("a");
    await client.send(
      new SplitShardCommand({
        StreamName: "sdk",
        ShardToSplit: "shardId-000000000001",
        NewStartingHashKey: (BigInt(half) + 7n).toString(),
      }),
    );
    // Clients wait for ACTIVE after a reshard; here it is at once.
    await waitUntilStreamExists({ client, maxWaitTime: 30, minDelay: 1 }, { StreamName: "sdk" });
    const listed = await client.send(new ListShardsCommand({ StreamName: "sdk" }));
    assert.deepEqual(
      listed.Shards?.map((s) => [
        s.ShardId,
        s.ParentShardId ?? null,
        s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
      ]),
      [
        ["shardId-000000000000", null, false],
        ["shardId-000000000001", null, true],
        ["shardId-000000000002", "shardId-000000000001", false],
        ["shardId-000000000003", "shardId-000000000001", false],
      ],
    );
    assert.equal(listed.Shards?.[3]?.HashKeyRange?.StartingHashKey, (BigInt(half) + 7n).toString());
    await client.send(
      new MergeShardsCommand({
        StreamName: "sdk",
        ShardToMerge: "shardId-000000000000",
        AdjacentShardToMerge: "shardId-000000000002",
      }),
    );
    await put("b");
    const latest = await client.send(
      new ListShardsCommand({ StreamName: "sdk", ShardFilter: { Type: "AT_LATEST" } }),
    );
    assert.deepEqual(
      latest.Shards?.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId]),
      [
        ["shardId-000000000003", "shardId-000000000001", undefined],
        ["shardId-000000000004", "shardId-000000000000", "shardId-000000000002"],
      ],
    );
    const atTrim = await client.send(
      new ListShardsCommand({ StreamName: "sdk", ShardFilter: { Type: "AT_TRIM_HORIZON" } }),
    );
    assert.deepEqual(
      atTrim.Shards?.map((s) => s.ShardId),
      ["shardId-000000000000", "shardId-000000000001"],
    );
    // Paging keeps the filter.
    const page1 = await client.send(
      new ListShardsCommand({ StreamName: "sdk", ShardFilter: { Type: "FROM_TRIM_HORIZON" }, MaxResults: 2 }),
    );
    const page2 = await client.send(new ListShardsCommand({ NextToken: page1.NextToken, MaxResults: 2 }));
    const page3 = await client.send(new ListShardsCommand({ NextToken: page2.NextToken, MaxResults: 2 }));
    assert.deepEqual(
      [...page1.Shards!, ...page2.Shards!, ...page3.Shards!].map((s) => s.ShardId?.slice(-1)),
      ["0", "1", "2", "3", "4"],
    );
    assert.equal(page3.NextToken, undefined);
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: "sdk" }));
    assert.equal(summary.StreamDescriptionSummary?.OpenShardCount, 2);
    assert.equal(summary.StreamDescriptionSummary?.StreamStatus, "ACTIVE");

    // A closed parent: its records to the end, then no iterator and the children.
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: "sdk",
        ShardId: "shardId-000000000000",
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const got = await client.send(new GetRecordsCommand({ ShardIterator }));
    assert.ok((got.Records?.length ?? 0) > 0);
    assert.equal(got.NextShardIterator, undefined);
    assert.deepEqual(
      got.ChildShards?.map((c) => [c.ShardId, c.ParentShards]),
      [["shardId-000000000004", ["shardId-000000000000", "shardId-000000000002"]]],
    );

    const updated = await client.send(
      new UpdateShardCountCommand({ StreamName: "sdk", TargetShardCount: 4, ScalingType: "UNIFORM_SCALING" }),
    );
    assert.deepEqual(
      [updated.CurrentShardCount, updated.TargetShardCount, updated.StreamName],
      [2, 4, "sdk"],
    );
    const described = await client.send(new DescribeStreamCommand({ StreamName: "sdk" }));
    const open = described.StreamDescription?.Shards?.filter(
      (s) => !s.SequenceNumberRange?.EndingSequenceNumber,
    );
    assert.equal(open?.length, 4);
  });

  it("answers bad reshards with Kinesis's error codes", async () => {
    await client.send(new CreateStreamCommand({ StreamName: "sdk-bad", ShardCount: 2 }));
    const split = (ShardToSplit: string, NewStartingHashKey: string) =>
      failure(
        client.send(new SplitShardCommand({ StreamName: "sdk-bad", ShardToSplit, NewStartingHashKey })),
      );
    // Outside the shard's range, and at its first key (one child would get no keys).
    assert.ok((await split("shardId-000000000000", half)) instanceof InvalidArgumentException);
    assert.ok((await split("shardId-000000000001", half)) instanceof InvalidArgumentException);
    assert.ok(
      (await split("shardId-000000000001", (maxKey + 1n).toString())) instanceof InvalidArgumentException,
    );
    assert.ok((await split("shardId-000000000007", "5")) instanceof ResourceNotFoundException);
    await client.send(
      new SplitShardCommand({
        StreamName: "sdk-bad",
        ShardToSplit: "shardId-000000000000",
        NewStartingHashKey: "1",
      }),
    );
    const closed = await split("shardId-000000000000", "5");
    assert.ok(closed instanceof InvalidArgumentException);
    assert.match(closed.message, /already been merged or split/);
    const notAdjacent = await failure(
      client.send(
        new MergeShardsCommand({
          StreamName: "sdk-bad",
          ShardToMerge: "shardId-000000000002",
          AdjacentShardToMerge: "shardId-000000000001",
        }),
      ),
    );
    assert.ok(notAdjacent instanceof InvalidArgumentException, String(notAdjacent));
    assert.match(notAdjacent.message, /not adjacent/);
    const double = await failure(
      client.send(
        new UpdateShardCountCommand({
          StreamName: "sdk-bad",
          TargetShardCount: 7,
          ScalingType: "UNIFORM_SCALING",
        }),
      ),
    );
    assert.ok(double instanceof LimitExceededException, String(double));
    const halve = await failure(
      client.send(
        new UpdateShardCountCommand({
          StreamName: "sdk-bad",
          TargetShardCount: 1,
          ScalingType: "UNIFORM_SCALING",
        }),
      ),
    );
    assert.ok(halve instanceof LimitExceededException, String(halve));
    assert.equal(
      (
        await client.send(
          new ListShardsCommand({ StreamName: "sdk-bad", ShardFilter: { Type: "AT_LATEST" } }),
        )
      ).Shards?.length,
      3,
    );
  });
});

/** Debian's Python and its boto3 (1.26) when installed, else the first python3 on PATH with boto3 (a current one). */
const PYTHON = ["/usr/bin/python3", "python3"].find(
  (python) => spawnSync(python, ["-c", "import boto3"], { encoding: "utf8" }).status === 0,
);
const skipReason =
  PYTHON === undefined ? "no python3 with boto3 (Debian's python3-boto3, or pip's boto3)" : undefined;

const SCRIPT = `
import json, sys
import boto3
from botocore.config import Config

kinesis = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
                       aws_secret_access_key=sys.argv[3], config=Config(retries={"max_attempts": 1}))
out = {}
kinesis.create_stream(StreamName="boto-reshard", ShardCount=2)
kinesis.put_records(StreamName="boto-reshard", Records=[{"Data": b"r%d" % i, "PartitionKey": "k%d" % i} for i in range(30)])
kinesis.update_shard_count(StreamName="boto-reshard", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
kinesis.get_waiter("stream_exists").wait(StreamName="boto-reshard", WaiterConfig={"Delay": 1})
kinesis.put_records(StreamName="boto-reshard", Records=[{"Data": b"s%d" % i, "PartitionKey": "k%d" % i} for i in range(30)])
kinesis.update_shard_count(StreamName="boto-reshard", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
kinesis.put_records(StreamName="boto-reshard", Records=[{"Data": b"t%d" % i, "PartitionKey": "k%d" % i} for i in range(30)])
out["open"] = [s["ShardId"] for s in kinesis.list_shards(StreamName="boto-reshard", ShardFilter={"Type": "AT_LATEST"})["Shards"]]
# A consumer that follows the lineage: parents to their end, then the children whose parents are all done.
todo = [s["ShardId"] for s in kinesis.list_shards(StreamName="boto-reshard", ShardFilter={"Type": "AT_TRIM_HORIZON"})["Shards"]]
parents_done, data = {}, []
while todo:
    shard = todo.pop(0)
    it = kinesis.get_shard_iterator(StreamName="boto-reshard", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        page = kinesis.get_records(ShardIterator=it)
        data += [r["Data"].decode() for r in page["Records"]]
        it = page.get("NextShardIterator")
        if it is None:
            for child in page["ChildShards"]:
                parents_done[child["ShardId"]] = parents_done.get(child["ShardId"], 0) + 1
                if parents_done[child["ShardId"]] == len(child["ParentShards"]):
                    todo.append(child["ShardId"])
        elif not page["Records"]:
            break
out["data"] = data
for name, call in [("split_edge", lambda: kinesis.split_shard(StreamName="boto-reshard", ShardToSplit=out["open"][0], NewStartingHashKey="0")),
                   ("split_closed", lambda: kinesis.split_shard(StreamName="boto-reshard", ShardToSplit="shardId-000000000000", NewStartingHashKey="5")),
                   ("merge_far", lambda: kinesis.merge_shards(StreamName="boto-reshard", ShardToMerge=out["open"][0], AdjacentShardToMerge=out["open"][2])),
                   ("too_many", lambda: kinesis.update_shard_count(StreamName="boto-reshard", TargetShardCount=9, ScalingType="UNIFORM_SCALING"))]:
    try:
        call()
        out[name] = "accepted"
    except kinesis.exceptions.ClientError as e:
        out[name] = e.response["Error"]["Code"]
print(json.dumps(out))
`;

describe(`resharding through boto3 (${PYTHON})`, { skip: skipReason }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.close();
  });

  it("updates the shard count 2 → 4 → 3 and reads every record once, following the lineage", async () => {
    const { stdout } = await promisify(execFile)(
      PYTHON!,
      ["-c", SCRIPT, t.server.url, credentials.accessKeyId, credentials.secretAccessKey],
      { timeout: 120_000 },
    );
    const out = JSON.parse(stdout) as { open: string[]; data: string[] } & Record<string, string>;
    assert.equal(out.open.length, 3);
    assert.equal(out.data.length, 90);
    assert.equal(new Set(out.data).size, 90);
    // Per key, r before s before t.
    for (let i = 0; i < 30; i++) {
      const order = out.data.filter((d) => d.slice(1) === String(i)).map((d) => d[0]);
      assert.deepEqual(order, ["r", "s", "t"], `key k${i}`);
    }
    assert.equal(out["split_edge"], "InvalidArgumentException");
    assert.equal(out["split_closed"], "InvalidArgumentException");
    assert.equal(out["merge_far"], "InvalidArgumentException");
    assert.equal(out["too_many"], "LimitExceededException");
  });
});
