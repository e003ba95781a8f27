/**
 * WriteRecords over real HTTP cannot be poisoned: a bad name is that record's rejection (never a
 * 500, never other callers' failure), an internal failure reaches the client without its detail,
 * and a few seconds of fuzzing leave the server answering and every acknowledged record queryable.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type _Record as Record_,
  RejectedRecordsException,
  type TimestreamWriteClient,
  WriteRecordsCommand,
} from "@aws-sdk/client-timestream-write";
import { queryAll, SEED_NOW_MS } from "../support/store.js";
import { runWriteFuzz } from "../support/write-fuzz.js";
import {
  credentials,
  failure,
  rawAwsCall,
  startTestServer,
  type TestServer,
  writeClient,
} from "./helpers.js";

const DB = "hardening-db";
const WRITE = "Timestream_20181101.WriteRecords";

describe("WriteRecords over HTTP: bad names and internal failures stay contained", () => {
  let t: TestServer;
  let client: TimestreamWriteClient;
  const logged: { details: Record<string, unknown>; message?: string }[] = [];
  let nextTime = SEED_NOW_MS - 3_000_000;
  const record = (dimension: string, measure: string, value = "1.5"): Record_ => ({
    Dimensions: [{ Name: dimension, Value: "h1" }],
    MeasureName: measure,
    MeasureValue: value,
    MeasureValueType: "DOUBLE",
    Time: String(nextTime++),
  });

  before(async () => {
    t = await startTestServer({
      logger: {
        error: (details, message) => logged.push({ details: details as Record<string, unknown>, message }),
      },
    });
    client = writeClient(t.server.url);
    await t.store.createDatabase(DB);
    for (const table of ["names", "concurrent", "broken", "fuzz"]) {
      await t.store.createTable({ DatabaseName: DB, TableName: table });
    }
  });
  after(async () => {
    client.destroy();
    await t.close();
  });

  it("answers a NUL in a dimension, measure or attribute name with a RejectedRecordsException naming the record", async () => {
    const multi: Record_ = {
      Dimensions: [{ Name: "host", Value: "h1" }],
      MeasureName: "metrics",
      MeasureValueType: "MULTI",
      MeasureValues: [{ Name: "lo\u0000ad", Value: "1", Type: "DOUBLE" }],
      Time: String(nextTime++),
    };
    const records = [record("host", "cpu"), record("ho\u0000st", "cpu"), record("host", "c\u0000pu"), multi];
    const err = await failure(
      client.send(new WriteRecordsCommand({ DatabaseName: DB, TableName: "names", Records: records })),
    );
    assert.ok(err instanceof RejectedRecordsException, `got ${err.name}: ${err.message}`);
    assert.deepEqual(
      err.RejectedRecords?.map((r) => [r.RecordIndex, r.Reason?.replace(/ contains.*/, "")]),
      [
        [1, "Dimension name 'ho\\u0000st'"],
        [2, "MeasureName 'c\\u0000pu'"],
        [3, "MeasureValues name 'lo\\u0000ad'"],
      ],
    );
    assert.doesNotMatch(JSON.stringify(err.RejectedRecords), /INSERT|_hg|Parser Error/);
    assert.deepEqual((await queryAll(t.store, `SELECT count(*) FROM "${DB}"."names"`)).rows, [["1"]]);
    // Over raw HTTP the same (what boto3 sends): Timestream's 419 with the JSON body, no 500.
    const raw = await rawAwsCall(
      t.server.url,
      WRITE,
      JSON.stringify({ DatabaseName: DB, TableName: "names", Records: [record("x\u0000", "m")] }),
    );
    assert.equal(raw.status, 419);
    assert.equal(raw.json["__type"], "RejectedRecordsException");
  });

  it("writes 20 concurrent valid callers' records while one caller sends NUL names", async () => {
    const valid = Array.from({ length: 20 }, (_, caller) =>
      Array.from({ length: 50 }, (_, i) => record("host", `m${caller % 4}`, String(caller * 1000 + i))),
    );
    const bad = Array.from({ length: 5 }, () => [record("host", "cpu"), record("bad\u0000name", "cpu")]);
    const calls = [
      ...valid.map((records) =>
        client.send(new WriteRecordsCommand({ DatabaseName: DB, TableName: "concurrent", Records: records })),
      ),
      ...bad.map((records) =>
        client.send(new WriteRecordsCommand({ DatabaseName: DB, TableName: "concurrent", Records: records })),
      ),
    ];
    const settled = await Promise.allSettled(calls);
    const outcome = settled.map((s) => (s.status === "fulfilled" ? "ok" : (s.reason as Error).name));
    assert.deepEqual(outcome, [...valid.map(() => "ok"), ...bad.map(() => "RejectedRecordsException")]);
    for (const s of settled.slice(0, 20)) {
      assert.equal(s.status === "fulfilled" && s.value.RecordsIngested?.Total, 50);
    }
    assert.deepEqual((await queryAll(t.store, `SELECT count(*) FROM "${DB}"."concurrent"`)).rows, [
      [String(20 * 50 + 5)],
    ]);
  });

  it("answers an internal failure with a generic message and the request id; the detail goes to the log", async () => {
    await client.send(
      new WriteRecordsCommand({ DatabaseName: DB, TableName: "broken", Records: [record("host", "cpu")] }),
    );
    // A real failure of the dependency: the table's data disappears behind the store's back.
    const engine = (t.store as unknown as { engine: { run(sql: string): Promise<number> } }).engine;
    const tableId = findTableId(t, "broken");
    await engine.run(`DROP TABLE _hg.t${tableId}_points`);
    logged.length = 0;
    const raw = await rawAwsCall(
      t.server.url,
      WRITE,
      JSON.stringify({ DatabaseName: DB, TableName: "broken", Records: [record("host", "cpu")] }),
    );
    assert.equal(raw.status, 500);
    assert.equal(raw.json["__type"], "InternalServerException");
    const requestId = raw.headers.get("x-amzn-RequestId");
    assert.equal(
      raw.json["message"],
      `internal error (request id ${requestId}); the server log has the details`,
    );
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.details["requestId"], requestId);
    assert.match(String(logged[0]!.details["err"]), /t\d+_points/);
    // The REST route: the same generic answer, with the id in its context.
    const rest = await fetch(`${t.server.url}/api/v1/databases/${DB}/tables/broken/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Records: [record("host", "cpu")] }),
    });
    const body = (await rest.json()) as {
      error: { code: string; message: string; context: { requestId: string } };
    };
    assert.equal(rest.status, 500);
    assert.equal(body.error.code, "Internal");
    assert.match(
      body.error.message,
      /^internal error \(request id [0-9a-f-]{36}\); the server log has the details$/,
    );
    assert.equal(logged[1]!.details["requestId"], body.error.context.requestId);
  });

  it("fuzzes WriteRecords for a few seconds: no 5xx, /health within 1 s, every acknowledged record queryable", async (test) => {
    const seed = Number(process.env["HG_FUZZ_SEED"] ?? Date.now() % 100_000);
    const report = await runWriteFuzz({
      credentials,
      url: t.server.url,
      database: DB,
      table: "fuzz",
      nowMs: t.clock.nowMs,
      seconds: 5,
      seed,
      workers: 4,
    });
    const context = `seed ${seed} (HG_FUZZ_SEED=${seed} repeats it): ${JSON.stringify({ ...report, problems: report.problems.slice(0, 3) }, null, 1)}`;
    test.diagnostic(
      `seed ${seed}: ${report.calls} calls ${JSON.stringify(report.byStatus)}, ${report.acknowledged} records acknowledged, /health max ${report.maxHealthMs.toFixed(0)} ms`,
    );
    assert.deepEqual(report.problems, [], context);
    assert.ok(report.calls > 20, context);
    assert.ok(report.byStatus[200] && report.byStatus[419], `both accepted and rejected calls: ${context}`);
    assert.ok(report.maxHealthMs < 1000, context);
    assert.deepEqual(
      (await queryAll(t.store, `SELECT count(*) FROM "${DB}"."fuzz"`)).rows,
      [[String(report.acknowledged)]],
      context,
    );
  });
});

function findTableId(t: TestServer, table: string): number {
  const catalog = (t.store as unknown as { catalog: { getTable(db: string, name: string): { id: number } } })
    .catalog;
  return catalog.getTable(DB, table).id;
}
