/**
 * Large exports: a million result rows stream from DuckDB to the lake without passing through the
 * JavaScript heap, and a reader polling the lake during repeated exports never sees a partial file.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { createExportService, type ExportService } from "../../src/operators/index.js";
import {
  BUCKET,
  exportRequest,
  leftoverTemps,
  type OperatorEnv,
  openOperatorEnv,
  writeSeries,
} from "./helpers.js";

const HOSTS = 1000;
const POINTS = 10;

/** Every point of the table repeated `copies` times: HOSTS * POINTS * copies rows. */
const repeatedQuery = (copies: number, exportNo = 0) =>
  `SELECT ${exportNo} AS export_no, instance_name, time, measure_value::double AS value, n FROM "airflow-db"."airflow-table" CROSS JOIN UNNEST(SEQUENCE(1, ${copies})) AS t(n) WHERE time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00'`;

v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

describe("large exports", () => {
  let env: OperatorEnv;
  let service: ExportService;

  before(async () => {
    env = await openOperatorEnv();
    await writeSeries(env.store, HOSTS, POINTS);
    service = createExportService({ store: env.store, lake: env.lake });
  });
  after(async () => {
    await env.close();
  });

  it("exports 1,000,000 rows with the heap growing by a small fraction of the file's size", async (t) => {
    collectGarbage();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    const started = performance.now();
    const result = await service.exportToLake(
      exportRequest({ key: "large/rows.csv", query: repeatedQuery(100), indexColumn: true }),
    );
    const elapsedMs = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    assert.equal(result.rows, 1_000_000);
    const head = await env.lake.headObject(BUCKET, "large/rows.csv");
    assert.equal(head?.size, result.bytes);
    const growth = peak - baseline;
    t.diagnostic(
      `1,000,000 rows, ${(result.bytes / 1e6).toFixed(1)} MB CSV in ${elapsedMs.toFixed(0)} ms; heap growth ${(growth / 1e6).toFixed(1)} MB`,
    );
    assert.ok(result.bytes > 30e6, `a large file (${result.bytes} bytes)`);
    assert.ok(growth < result.bytes / 10, `heap grew by ${growth} bytes for a ${result.bytes}-byte file`);
  });

  it("a reader polling the lake during repeated exports only ever sees whole files", async (t) => {
    const key = "watched/rows.csv";
    const exports = 5;
    const seen = new Map<string, number>(); // sha256 → times read
    let done = false;
    const watcher = (async () => {
      while (!done) {
        const listed = await env.lake.listObjects(BUCKET, { prefix: "watched/" });
        for (const object of listed.objects) {
          if (object.key !== key) continue;
          const bytes = await env.lake.getObject(BUCKET, key).catch(() => null);
          if (bytes === null) continue;
          const sha = createHash("sha256").update(bytes).digest("hex");
          seen.set(sha, (seen.get(sha) ?? 0) + 1);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const written: string[] = [];
    try {
      for (let i = 1; i <= exports; i++) {
        // A different first column each time, so every export is a different file.
        const result = await service.exportToLake(exportRequest({ key, query: repeatedQuery(20, i) }));
        assert.equal(result.rows, 200_000);
        written.push(result.sha256!);
      }
    } finally {
      done = true;
      await watcher;
    }
    assert.equal(new Set(written).size, exports);
    const reads = [...seen.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`${reads} reads of ${seen.size} versions during ${exports} exports`);
    assert.ok(seen.size >= 2, `the watcher saw several versions (saw ${seen.size} in ${reads} reads)`);
    for (const sha of seen.keys())
      assert.ok(written.includes(sha), `read a file no export wrote whole: ${sha}`);
    assert.deepEqual(leftoverTemps(env.lakeDir), []);
  });
});
