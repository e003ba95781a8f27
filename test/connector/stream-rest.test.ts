/**
 * The stream's REST routes through the real HTTP server, driven by the HTTP client the CLI uses
 * (RemoteStream), and the load generator's stream sink over that client.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/api/app.js";
import { HttpClient, RemoteStream } from "../../src/api/client.js";
import { type RunningHttpServer, startHttpServer } from "../../src/api/http-server.js";
import { isHourglassError } from "../../src/errors.js";
import { historical } from "../../src/loadgen/index.js";
import { streamSink } from "../../src/loadgen/sinks.js";
import { eventually, openPipeline, type Pipeline, readStream, SEED_START_S } from "./helpers.js";

const rejectsWith = (code: string, message: RegExp) => (error: unknown) => {
  assert.ok(isHourglassError(error, code as never), `expected ${code}, got ${String(error)}`);
  assert.match(error.message, message);
  return true;
};

describe("stream REST routes and RemoteStream", () => {
  let p: Pipeline;
  let server: RunningHttpServer;
  let remote: RemoteStream;

  before(async () => {
    p = await openPipeline({ stream: "unused" });
    server = await startHttpServer(createApp({ store: p.store, stream: p.streams }), { port: 0 });
    remote = new RemoteStream(new HttpClient(server.url));
  });
  after(async () => {
    await server.close();
    await p.close();
  });

  it("creates, lists, describes and deletes streams", async () => {
    const created = await remote.createStream("web", 3, { retentionHours: 48 });
    assert.equal(created.StreamName, "web");
    assert.equal(created.Shards.length, 3);
    assert.equal(created.RetentionPeriodHours, 48);
    assert.ok(created.StreamCreationTimestamp instanceof Date);
    assert.deepEqual(await remote.listStreams(), ["unused", "web"]);
    assert.deepEqual((await remote.describeStream("web")).Shards, created.Shards);
    await assert.rejects(remote.createStream("web", 1), rejectsWith("Conflict", /stream web already exists/));
    await assert.rejects(
      remote.createStream("bad name", 1),
      rejectsWith("ValidationError", /may only contain/),
    );
    await assert.rejects(
      remote.createStream("few", 0),
      rejectsWith("ValidationError", /shard count must be an integer in 1\.\.64/),
    );
    await remote.deleteStream("web");
    await assert.rejects(remote.describeStream("web"), rejectsWith("NotFound", /stream web not found/));
  });

  it("puts binary records as base64, refuses bad ones per record, and reads them from every kind of position", async () => {
    await remote.createStream("bytes", 1);
    const binary = Buffer.from([0, 255, 1, 254, 0x80]);
    const put = await remote.putRecords("bytes", [
      { Data: binary, PartitionKey: "k" },
      { Data: Buffer.from("x"), PartitionKey: "k".repeat(300) },
      { Data: Buffer.from("second"), PartitionKey: "k" },
      { Data: Buffer.from("third"), PartitionKey: "k" },
    ]);
    assert.equal(put.FailedRecordCount, 1);
    assert.match(
      (put.Records[1] as { ErrorMessage: string }).ErrorMessage,
      /PartitionKey must be 1\.\.256 characters/,
    );
    const sequences = put.Records.filter((r) => "SequenceNumber" in r).map(
      (r) => (r as { SequenceNumber: string }).SequenceNumber,
    );
    const shard = "shardId-000000000000";

    const all = await remote.readRecords("bytes", shard, "trim-horizon");
    assert.deepEqual(all.Records[0]!.Data, binary);
    assert.deepEqual(
      all.Records.map((r) => r.SequenceNumber),
      sequences,
    );
    assert.ok(all.Records[0]!.ApproximateArrivalTimestamp instanceof Date);
    const text = (page: { Records: { Data: Uint8Array }[] }) =>
      page.Records.map((r) => Buffer.from(r.Data).toString());
    assert.deepEqual(text(await remote.readRecords("bytes", shard, `after:${sequences[0]}`)), [
      "second",
      "third",
    ]);
    assert.deepEqual(text(await remote.readRecords("bytes", shard, `at:${sequences[2]}`)), ["third"]);
    assert.deepEqual(text(await remote.readRecords("bytes", shard, "trim-horizon", { limit: 1 })).length, 1);
    assert.deepEqual((await remote.readRecords("bytes", shard, "latest")).Records, []);
    const arrival = all.Records[0]!.ApproximateArrivalTimestamp.toISOString();
    assert.equal((await remote.readRecords("bytes", shard, `time:${arrival}`)).Records.length, 3);
    const firstPage = await remote.readRecords("bytes", shard, "trim-horizon", { limit: 2 });
    assert.deepEqual(
      text(await remote.readRecords("bytes", shard, `iterator:${firstPage.NextShardIterator}`)),
      ["third"],
    );
  });

  it("waits for a record with waitMs instead of returning an empty page", async () => {
    await remote.createStream("waiting", 1);
    const startedMs = performance.now();
    let answered = false;
    const reading = remote
      .readRecords("waiting", "shardId-000000000000", "latest", { waitMs: 10_000 })
      .finally(() => {
        answered = true;
      });
    // The read starts at the latest position when its request arrives: a record put before that
    // is not for it. So put until the read answers (on a busy machine the request can take a while).
    while (!answered && performance.now() - startedMs < 8_000) {
      await remote.putRecords("waiting", [{ Data: Buffer.from("late"), PartitionKey: "k" }]);
      await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    const page = await reading;
    assert.equal(Buffer.from(page.Records[0]!.Data).toString(), "late");
    assert.ok(performance.now() - startedMs < 9_000, "woken by the record, not by the timeout");
  });

  it("answers bad requests with clear errors", async () => {
    const http = new HttpClient(server.url);
    await assert.rejects(
      http.call("POST", "/api/v1/streams/bytes/records", {
        Records: [{ Data: "not base64!", PartitionKey: "k" }],
      }),
      rejectsWith("ValidationError", /Records\.0\.Data: Data must be base64/),
    );
    await assert.rejects(
      http.call("POST", "/api/v1/streams", { StreamName: "x" }),
      rejectsWith("ValidationError", /invalid request body: ShardCount/),
    );
    await assert.rejects(
      remote.readRecords("bytes", "shardId-000000000000", "yesterday"),
      rejectsWith("ValidationError", /unknown read position "yesterday"/),
    );
    await assert.rejects(
      remote.readRecords("bytes", "shardId-000000000000", "at:12"),
      rejectsWith("ValidationError", /invalid sequence number "12"/),
    );
    await assert.rejects(
      remote.readRecords("bytes", "shardId-000000000000", "trim-horizon", { limit: 0 }),
      rejectsWith("ValidationError", /limit must be an integer in 1\.\.10000, got "0"/),
    );
    await assert.rejects(
      remote.readRecords("bytes", "shardId-000000000000", "trim-horizon", { waitMs: 60_000 }),
      rejectsWith("ValidationError", /waitMs must be an integer in 0\.\.20000/),
    );
    await assert.rejects(
      remote.readRecords("bytes", "shardId-000000000009", "trim-horizon"),
      rejectsWith("NotFound", /shard shardId-000000000009 not found/),
    );
    await assert.rejects(
      remote.readRecords("nope", "shardId-000000000000", "trim-horizon"),
      rejectsWith("NotFound", /stream nope not found/),
    );
    await assert.rejects(remote.getShardStats("nope"), rejectsWith("NotFound", /stream nope not found/));
  });

  it("carries a generator run through RemoteStream, retrying while the server is not up yet", async () => {
    await remote.createStream("generated", 2);
    // A port with no server on it yet: the sink's first calls fail to connect and are retried.
    const later = await startHttpServer(createApp({ store: p.store, stream: p.streams }), { port: 0 });
    const port = later.port;
    await later.close();
    const sink = streamSink(new RemoteStream(new HttpClient(`http://127.0.0.1:${port}`)), "generated", {
      retryDelayMs: 50,
      maxAttempts: 10,
    });
    const running = historical({ from: SEED_START_S, to: SEED_START_S + 10, stepSeconds: 10, sink });
    // The server comes up once the sink has met the closed port and retried, however long that took.
    await eventually(() => (sink.stats.retries > 0 ? true : undefined), 30_000, "a retried call");
    const again = await startHttpServer(createApp({ store: p.store, stream: p.streams }), { port });
    try {
      const summary = await running;
      assert.equal(summary.records, 26_000);
      assert.ok(sink.stats.retries > 0, "calls were retried");
      assert.equal(sink.stats.records, 26_000);
      assert.equal((await readStream(p.streams, "generated")).length, 26_000);
    } finally {
      await again.close();
    }
  });
});
