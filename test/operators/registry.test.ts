import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { command, exportQuery, operatorKinds, runOperator, sqlCheck } from "../../src/operators/index.js";
import { dag, task } from "../../src/workflows/index.js";
import {
  at,
  BUCKET,
  contextFor,
  leftoverTemps,
  type OperatorEnv,
  openOperatorEnv,
  writeSeries,
} from "./helpers.js";

const rejectsWith = async (promise: Promise<unknown>, message: RegExp) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(isHourglassError(error, "ValidationError"), String(error));
    assert.match(error.message, message);
    return true;
  });

describe("the operator registry", () => {
  let env: OperatorEnv;
  before(async () => {
    env = await openOperatorEnv();
    await writeSeries(env.store, 3, 2);
  });
  after(async () => {
    await env.close();
  });
  const ctx = () => contextFor(at("13:00:00"), at("14:00:00")).ctx;

  it("refuses an unknown kind, naming it and the known kinds", async () => {
    assert.deepEqual(operatorKinds, ["export", "command", "sqlCheck"]);
    await rejectsWith(
      runOperator({ kind: "python" }, ctx(), env.services),
      /^unknown operator kind "python" \(known kinds: export, command, sqlCheck\)$/,
    );
    await rejectsWith(
      runOperator({ kind: "toString" }, ctx(), env.services),
      /unknown operator kind "toString"/,
    );
    await rejectsWith(runOperator(null as never, ctx(), env.services), /unknown operator kind undefined/);
  });

  it("exportQuery fills in the defaults: csv, header, no index column, no gzip, skip on empty", () => {
    const descriptor = exportQuery({ query: "SELECT 1", bucket: BUCKET, key: "{{ folder }}/x.csv" });
    assert.deepEqual(
      { ...descriptor },
      {
        kind: "export",
        query: "SELECT 1",
        bucket: BUCKET,
        key: "{{ folder }}/x.csv",
        format: "csv",
        gzip: false,
        header: true,
        indexColumn: false,
        emptyResult: "skip",
      },
    );
    const parquet = exportQuery({ query: "SELECT 1", bucket: BUCKET, key: "x.parquet", format: "parquet" });
    assert.equal(parquet.header, undefined);
    // A descriptor is what task() takes.
    const d = dag({ id: "d", tasks: [task({ id: "t", operator: descriptor })] });
    assert.equal(d.tasks[0]!.operator?.kind, "export");
  });

  it("exportQuery refuses bad options when the DAG is defined", () => {
    const base = { query: "SELECT 1", bucket: BUCKET, key: "x.csv" };
    assert.throws(
      () => exportQuery({ ...base, format: "xml" as never }),
      /^HourglassError: invalid export operator: format: Invalid option: expected one of "csv"\|"parquet"/,
    );
    assert.throws(
      () => exportQuery({ ...base, emptyResult: "ignore" as never }),
      /emptyResult: Invalid option/,
    );
    assert.throws(
      () => exportQuery({ ...base, format: "parquet", header: true }),
      /header and indexColumn apply to CSV exports only/,
    );
    assert.throws(() => exportQuery({ ...base, query: "" }), /query: the query is empty/);
    assert.throws(() => exportQuery({ ...base, bucket: undefined as never }), /bucket: Invalid input/);
    assert.throws(
      () => exportQuery({ ...base, emptyResults: "skip" } as never),
      /Unrecognized key: "emptyResults"/,
    );
  });

  it("a bad template or descriptor fails the task with a message naming it, before any work", async () => {
    await rejectsWith(
      runOperator(
        exportQuery({ query: "SELECT * FROM {{ params.table }}", bucket: BUCKET, key: "x.csv" }),
        ctx(),
        env.services,
      ),
      /unknown placeholder \{\{ params.table \}\}: the DAG has no param "table"/,
    );
    await rejectsWith(
      runOperator(
        exportQuery({ query: "SELECT 1", bucket: BUCKET, key: "{{ folder }/x.csv" }),
        ctx(),
        env.services,
      ),
      /unclosed placeholder/,
    );
    await rejectsWith(
      runOperator({ kind: "export", query: "SELECT 1" }, ctx(), env.services),
      /^invalid export operator: bucket: Invalid input/,
    );
    await rejectsWith(
      runOperator({ kind: "sqlCheck" }, ctx(), env.services),
      /^invalid sqlCheck operator: query/,
    );
    await rejectsWith(
      runOperator({ ...command({ command: "true" }), timeoutMs: -1 }, ctx(), env.services),
      /timeoutMs: Too small/,
    );
    assert.deepEqual(await env.lake.listObjects(BUCKET), {
      objects: [],
      commonPrefixes: [],
      isTruncated: false,
    });
  });

  it("an export whose task was aborted does not run", async () => {
    const { ctx: aborted, lines } = contextFor(at("13:00:00"), at("14:00:00"), {
      signal: AbortSignal.abort("cancelled"),
    });
    await assert.rejects(
      runOperator(
        exportQuery({
          query: 'SELECT instance_name FROM "airflow-db"."airflow-table"',
          bucket: BUCKET,
          key: "aborted.csv",
        }),
        aborted,
        env.services,
      ),
      (error: unknown) =>
        isHourglassError(error, "Conflict") &&
        /the export was stopped: the task was cancelled/.test(error.message),
    );
    assert.equal(await env.lake.headObject(BUCKET, "aborted.csv"), null);
    assert.equal(lines[0], "Data will be uploaded to demo-airflow-ts-output/aborted.csv");
    assert.deepEqual(leftoverTemps(env.lakeDir), []);
  });

  it("sqlCheck and command descriptors are plain data", () => {
    assert.deepEqual(
      { ...sqlCheck({ query: "SELECT 1" }) },
      { kind: "sqlCheck", query: "SELECT 1", expect: null },
    );
    assert.deepEqual(
      { ...command({ command: "echo {{ ds }}" }) },
      { kind: "command", command: "echo {{ ds }}", env: {}, cwd: null, timeoutMs: null, killGraceMs: 5000 },
    );
  });
});
