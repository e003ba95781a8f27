import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type DeadLetterPayload,
  type StreamConnector,
  startConnector,
} from "../../src/stream/connector/index.js";
import {
  DB,
  json,
  openPipeline,
  type Pipeline,
  readStream,
  rows,
  SEED_START_S,
  singlePayload,
  TABLE,
  whenHandled,
} from "./helpers.js";

const oneMiB = 1_048_576;

describe("bad input: refused, rejected or dead-lettered with its reason, and nothing valid lost", () => {
  let p: Pipeline;
  let connector: StreamConnector;
  const valid: Buffer[] = [];

  before(async () => {
    p = await openPipeline();
    connector = await startConnector({
      streams: p.streams,
      store: p.store,
      stream: "metrics",
      database: DB,
      table: TABLE,
      stateDir: p.dir,
      batchSize: 40,
      maxDelayMs: 20,
    });
  });
  after(async () => {
    await connector.stop();
    await p.close();
  });

  it("PutRecords refuses a record over 1 MiB and a partition key over 256 characters, and keeps the others", async () => {
    for (let i = 0; i < 3; i++) valid.push(singlePayload(`good-${i}`, "cpu_user", String(i), SEED_START_S));
    const result = await p.streams.putRecords("metrics", [
      { Data: valid[0]!, PartitionKey: "good-0" },
      { Data: Buffer.alloc(oneMiB, 0x61), PartitionKey: "big" },
      { Data: valid[1]!, PartitionKey: "good-1" },
      { Data: singlePayload("k", "cpu_user", "1", SEED_START_S), PartitionKey: "k".repeat(257) },
      { Data: valid[2]!, PartitionKey: "good-2" },
    ]);
    assert.equal(result.FailedRecordCount, 2);
    const failed = result.Records.map((r) => ("ErrorCode" in r ? r.ErrorMessage : null));
    assert.match(failed[1]!, /record is 1048579 bytes \(partition key \+ data\), more than 1048576/);
    assert.match(failed[3]!, /PartitionKey must be 1\.\.256 characters, got 257/);
    assert.deepEqual([failed[0], failed[2], failed[4]], [null, null, null]);
    await whenHandled(connector, 3, 20_000);
    assert.equal(connector.status().counts.written, 3);
  });

  it("dead-letters what it cannot parse and what the store rejects, with the reason, and keeps flowing", async () => {
    const bad: { data: Buffer; reason: RegExp; kind: "parse" | "rejected"; index?: boolean }[] = [
      { data: Buffer.from("cpu_user=12.5 host=a"), reason: /^the payload is not JSON: /, kind: "parse" },
      {
        data: json({ MeasureValue: "1", Time: String(SEED_START_S), host: "a" }),
        reason: /^no MeasureName$/,
        kind: "parse",
      },
      {
        data: json({ MeasureName: "cpu", MeasureValue: "1", host: "a" }),
        reason: /^no Time$/,
        kind: "parse",
      },
      {
        data: singlePayload("a", "cpu_user", "twelve", SEED_START_S),
        reason: /^MeasureValue 'twelve' is not a DOUBLE$/,
        kind: "parse",
      },
      {
        data: singlePayload("a", "cpu_user", "1", SEED_START_S, "FLOAT"),
        reason: /^unknown MeasureValueType 'FLOAT'/,
        kind: "parse",
      },
      // The store's own rules: older than the memory store (24 h before its clock), a reserved name.
      {
        data: singlePayload("a", "cpu_user", "1", SEED_START_S - 2 * 86_400),
        reason: /outside the time range .* of the data ingestion window/,
        kind: "rejected",
        index: true,
      },
      {
        data: json({
          MeasureName: "cpu",
          MeasureValue: "1",
          Time: String(SEED_START_S),
          TimeUnit: "SECONDS",
          measure_value: "x",
        }),
        reason: /reserved column name/,
        kind: "rejected",
        index: true,
      },
    ];
    // Valid records around every bad one, all on one shard so the order is kept.
    const records = [];
    for (const [i, b] of bad.entries()) {
      const good = singlePayload(`mixed-${i}`, "cpu_user", String(i), SEED_START_S);
      valid.push(good);
      records.push({ Data: good, PartitionKey: "mixed" }, { Data: b.data, PartitionKey: "mixed" });
    }
    const put = await p.streams.putRecords("metrics", records);
    assert.equal(put.FailedRecordCount, 0);
    const sequences = put.Records.map((r) => ("SequenceNumber" in r ? r.SequenceNumber : ""));
    await whenHandled(connector, 3 + records.length, 20_000);

    const letters = (await readStream(p.streams, "metrics-deadletter")).map(
      (r) => JSON.parse(Buffer.from(r.Data).toString("utf8")) as DeadLetterPayload,
    );
    assert.equal(letters.length, bad.length);
    for (const [i, b] of bad.entries()) {
      const letter = letters.find((l) => l.sequenceNumber === sequences[2 * i + 1]);
      assert.ok(letter, `bad record ${i} is on the dead-letter stream`);
      assert.match(letter.reason, b.reason);
      assert.equal(letter.kind, b.kind);
      assert.equal(letter.data, b.data.toString("utf8"), "the original payload, as text");
      assert.equal(letter.partitionKey, "mixed");
      assert.equal(letter.stream, "metrics");
      assert.equal(letter.connector, "metrics");
      assert.equal(typeof letter.recordIndex, b.index ? "number" : "undefined");
    }
    const counts = connector.status().counts;
    assert.equal(counts.parseFailed, 5);
    assert.equal(counts.rejected, 2);
    assert.equal(counts.deadLettered, 7);
  });

  it("rejects a different value for a record already stored (no higher version), with the existing version", async () => {
    const first = singlePayload("versioned", "cpu_user", "1", SEED_START_S);
    const changed = singlePayload("versioned", "cpu_user", "2", SEED_START_S);
    valid.push(first);
    await p.streams.putRecords("metrics", [{ Data: first, PartitionKey: "v" }]);
    await whenHandled(connector, 18, 20_000);
    await p.streams.putRecords("metrics", [{ Data: changed, PartitionKey: "v" }]);
    await whenHandled(connector, 19, 20_000);
    const letters = (await readStream(p.streams, "metrics-deadletter")).map(
      (r) => JSON.parse(Buffer.from(r.Data).toString("utf8")) as DeadLetterPayload,
    );
    const letter = letters.find((l) => l.data === changed.toString("utf8"));
    assert.ok(letter, "the changed record is dead-lettered");
    assert.equal(letter.kind, "rejected");
    assert.equal(letter.existingVersion, 1);
  });

  it("cuts a payload near 1 MiB to fit the dead-letter stream, and says so", async () => {
    const big = Buffer.alloc(oneMiB - 100, 0x7a); // "zzz…": not JSON
    await p.streams.putRecords("metrics", [{ Data: big, PartitionKey: "big" }]);
    await whenHandled(connector, 20, 20_000);
    const letters = (await readStream(p.streams, "metrics-deadletter")).map(
      (r) => JSON.parse(Buffer.from(r.Data).toString("utf8")) as DeadLetterPayload,
    );
    const letter = letters.find((l) => l.truncated);
    assert.ok(letter);
    assert.equal(letter.originalBytes, big.length);
    assert.ok(letter.data.length > 100_000 && big.toString().startsWith(letter.data));
    assert.match(letter.reason, /not JSON/);
  });

  it("does not send rejected records again (the Flink sample's bug), and every valid record is stored once", async () => {
    const before = connector.status().counts;
    const more = Array.from({ length: 30 }, (_, i) =>
      singlePayload(`later-${i}`, "cpu_user", String(i), SEED_START_S),
    );
    valid.push(...more);
    await p.streams.putRecords(
      "metrics",
      more.map((data, i) => ({ Data: data, PartitionKey: `later-${i}` })),
    );
    await whenHandled(connector, 50, 20_000);
    const counts = connector.status().counts;
    assert.equal(counts.rejected, before.rejected);
    assert.equal(counts.deadLettered, before.deadLettered);
    assert.equal((await readStream(p.streams, "metrics-deadletter")).length, before.deadLettered);

    const stored = await rows(
      p.store,
      `SELECT instance_name, count(*) FROM "${DB}"."${TABLE}" GROUP BY instance_name`,
    );
    const expected = valid.map((v) => (JSON.parse(v.toString()) as { instance_name: string }).instance_name);
    assert.deepEqual(stored.map((r) => r[0]).sort(), [...expected].sort());
    assert.ok(
      stored.every((r) => r[1] === "1"),
      "each once",
    );
  });
});
