import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { historical, realtime } from "../../src/loadgen/index.js";
import { storeSink, streamSink } from "../../src/loadgen/sinks.js";
import { DB, openPipeline, type Pipeline, readStream, rows, SEED_START_S, TABLE } from "./helpers.js";

const validation = (message: RegExp) => (error: unknown) => {
  assert.ok(isHourglassError(error, "ValidationError"), String(error));
  assert.match(error.message, message);
  return true;
};

describe("loadgen sinks", () => {
  let p: Pipeline;
  before(async () => {
    p = await openPipeline();
    await p.store.createTable({
      DatabaseName: DB,
      TableName: "multi-table",
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    });
  });
  after(async () => {
    await p.close();
  });

  it("storeSink writes each loop with one call, single- or multi-measure", async () => {
    const single = storeSink(p.store, DB, TABLE, { shape: "single" });
    await historical({ from: SEED_START_S, to: SEED_START_S + 20, stepSeconds: 10, sink: single });
    assert.deepEqual(
      { ...single.stats, retries: 0 },
      {
        loops: 2,
        records: 52_000,
        rejected: 0,
        refused: 0,
        retries: 0,
        bytes: 0,
        firstProblem: undefined,
      },
    );
    const multi = storeSink(p.store, DB, "multi-table", { recordsPerWrite: 100 });
    await historical({
      from: SEED_START_S,
      to: SEED_START_S + 10,
      stepSeconds: 10,
      sink: multi,
      shape: "multi",
    });
    assert.equal(multi.stats.records, 2200);
    assert.deepEqual(
      await rows(p.store, `SELECT count(*) FROM "${DB}"."multi-table" WHERE cpu_user IS NOT NULL`),
      [["1000"]],
    );
  });

  it("storeSink counts the records the store rejects, with the first reason", async () => {
    const sink = storeSink(p.store, DB, TABLE);
    // Two days before the store's clock: outside the 24-hour memory store.
    await historical({
      from: SEED_START_S - 2 * 86_400,
      to: SEED_START_S - 2 * 86_400 + 10,
      stepSeconds: 10,
      sink,
    });
    assert.equal(sink.stats.rejected, 26_000);
    assert.equal(sink.stats.records, 0);
    assert.match(sink.stats.firstProblem!, /outside the time range/);
  });

  it("streamSink puts every payload, partition key instance_name, in calls the stream accepts", async () => {
    const sink = streamSink(p.streams, "metrics", { concurrency: 3 });
    await historical({
      from: SEED_START_S,
      to: SEED_START_S + 10,
      stepSeconds: 10,
      sink,
      shape: "multi",
      includeEvents: false,
    });
    assert.equal(sink.stats.records, 1000);
    assert.equal(sink.stats.refused, 0);
    const stored = await readStream(p.streams, "metrics");
    assert.equal(stored.length, 1000);
    assert.equal(
      sink.stats.bytes,
      stored.reduce((sum, r) => sum + r.Data.length, 0),
    );
    for (const r of stored) {
      const body = JSON.parse(Buffer.from(r.Data).toString()) as { instance_name: string; "@type": string };
      assert.equal(r.PartitionKey, body.instance_name);
      assert.equal(body["@type"], "metrics");
    }
  });

  it("refuses a shape that differs from the run's, and bad options", async () => {
    await assert.rejects(
      historical({
        from: SEED_START_S,
        to: SEED_START_S + 10,
        stepSeconds: 10,
        sink: storeSink(p.store, DB, TABLE, { shape: "multi" }),
      }),
      validation(/the sink writes the multi shape but the run generates single loops/),
    );
    assert.throws(
      () => storeSink(p.store, DB, TABLE, { recordsPerWrite: 0 }),
      validation(/recordsPerWrite must be a positive integer/),
    );
    assert.throws(
      () => streamSink(p.streams, "metrics", { concurrency: 0 }),
      validation(/concurrency must be a positive integer/),
    );
    assert.throws(
      () => streamSink(p.streams, "metrics", { maxAttempts: 1.5 }),
      validation(/maxAttempts must be a positive integer/),
    );
  });

  it("streamSink fails the run when the stream does not exist (not retryable)", async () => {
    const controller = new AbortController();
    await assert.rejects(
      realtime({ sink: streamSink(p.streams, "nope"), loops: 1, signal: controller.signal }),
      (error: unknown) => isHourglassError(error, "NotFound") && /stream nope not found/.test(error.message),
    );
  });
});
