/**
 * An hourly export of a table that has no record of its measure yet (`hourglass up --demo
 * --fill-hours 0` before the first cpu_nice arrives): the table has no `measure_value::double`
 * column, so the seed's query does not compile. The export's empty-result policy covers it; a plain
 * query keeps Timestream's error.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isHourglassError } from "../../src/errors.js";
import { type ExportToLakeResult, exportQuery, runOperator } from "../../src/operators/index.js";
import { loadDags } from "../../src/workflows/index.js";
import { at, BUCKET, contextFor, type OperatorEnv, openOperatorEnv } from "./helpers.js";

const dagsDir = fileURLToPath(new URL("../../examples/dags/", import.meta.url));
const missingColumn = /column 'measure_value::double' does not exist/;

describe("an export of a table without the measure yet", () => {
  let env: OperatorEnv;

  before(async () => {
    env = await openOperatorEnv();
  });
  after(async () => {
    await env.close();
  });

  it("with emptyResult skip (the seed's DAG): succeeds, writes nothing, and the log says why", async () => {
    const bag = await loadDags(dagsDir);
    const operator = bag.dags.get("timestream-airflow-demo")!.dag.tasks[0]!.operator!;
    const { ctx, lines } = contextFor(at("13:00:00"), at("14:00:00"));
    const result = (await runOperator(operator, ctx, env.services)) as ExportToLakeResult;
    assert.equal(result.written, false);
    const line = lines.find((l) => l.startsWith("Query returned nothing"));
    assert.ok(line, lines.join("\n"));
    assert.match(
      line,
      /failed because column 'measure_value::double' does not exist in the table yet .*counts as an empty result: nothing written \(emptyResult "skip"\)/,
    );
    assert.deepEqual((await env.lake.listObjects(BUCKET)).objects, []);
  });

  for (const policy of ["fail", "header-only"] as const) {
    it(`with emptyResult ${policy}: fails with the missing column and what to do`, async () => {
      const operator = exportQuery({
        query: `SELECT measure_value::double AS value FROM "airflow-db"."airflow-table" WHERE {{ time_filter }}`,
        bucket: BUCKET,
        key: `${policy}/{{ folder }}.csv`,
        emptyResult: policy,
      });
      const { ctx } = contextFor(at("13:00:00"), at("14:00:00"));
      await assert.rejects(runOperator(operator, ctx, env.services), (error: unknown) => {
        assert.ok(isHourglassError(error));
        assert.equal(error.code, "ValidationError");
        assert.match(error.message, missingColumn);
        assert.match(error.message, /use "skip"|"skip" treats it as an empty result/);
        return true;
      });
    });
  }

  it("a plain query still fails with Timestream's error", async () => {
    await assert.rejects(
      env.store.query({ QueryString: `SELECT measure_value::double FROM "airflow-db"."airflow-table"` }),
      (error: unknown) => {
        assert.ok(isHourglassError(error));
        assert.equal(error.code, "ValidationError");
        assert.match(error.message, missingColumn);
        return true;
      },
    );
  });
});
