/**
 * No query can take the server down: each query limit (nesting, length, sequence(), time, memory,
 * a client going away) gives a 4xx naming the limit and how to raise it, and the server keeps
 * answering /health meanwhile. Real HTTP server on loopback, real DuckDB, tiny configured limits.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { WriteRecordsCommand } from "@aws-sdk/client-timestream-write";
import { createApp } from "../../src/api/app.js";
import { startHttpServer } from "../../src/api/http-server.js";
import { exportRoutes } from "../../src/api/rest/export-routes.js";
import { queryLimitsOf, resolveConfig } from "../../src/config.js";
import { openLocalLake } from "../../src/lake/index.js";
import { createExportService } from "../../src/operators/index.js";
import { TimestreamStore } from "../../src/store/index.js";
import type { QueryLimits } from "../../src/store/query-limits.js";
import { bucket, loadSeedData, seedQueryFor } from "../e2e/helpers.js";
import { SEED_NOW_MS, tempDir } from "../support/store.js";
import { failure, queryClient, writeClient } from "./helpers.js";

/** Runs for hours if nothing stops it: 10^12 rows through a count. */
const ENDLESS =
  "SELECT count(*) FROM UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z)";
/** Needs about 400 MB for one list (array_agg cannot spill): 50 million BIGINTs. */
const MEMORY_HUNGRY =
  "SELECT cardinality(array_agg(a.x)) FROM UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 5000)) AS b(y)";

interface Server {
  url: string;
  store: TimestreamStore;
  dir: string;
  close(): Promise<void>;
}

async function startServer(limits: Partial<QueryLimits>, withExports = false): Promise<Server> {
  const dir = tempDir("hg-query-limits-");
  const store = await TimestreamStore.open({
    dir,
    clockMs: () => SEED_NOW_MS,
    sweepIntervalMs: 0,
    threads: 2,
    limits,
  });
  const app = createApp({ store });
  if (withExports) {
    const lake = openLocalLake(path.join(dir, "lake"));
    app.route("/api/v1", exportRoutes(createExportService({ store, lake, clockMs: () => SEED_NOW_MS })));
  }
  const server = await startHttpServer(app);
  return {
    url: server.url,
    store,
    dir,
    async close() {
      await server.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postQuery(
  url: string,
  queryString: string,
  signal?: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ QueryString: queryString }),
    signal,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const errorOf = (body: Record<string, unknown>) =>
  body["error"] as { code: string; message: string; context: Record<string, unknown> };

/** /health answers, and within 1 s. */
async function assertHealthy(url: string): Promise<void> {
  const started = performance.now();
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 200);
  const ms = performance.now() - started;
  assert.ok(ms < 1000, `/health took ${ms.toFixed(0)} ms`);
}

async function until(probe: () => boolean, what: string, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!probe()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("query text limits", () => {
  let s: Server;
  before(async () => {
    s = await startServer({ sequenceMaxEntries: 10_000 });
  });
  after(() => s.close());

  it("refuses 100,000 nested parentheses with a 400 naming the nesting limit, not a stack overflow", async () => {
    const n = 100_000;
    const deep = await postQuery(s.url, `SELECT ${"(".repeat(n)}1${")".repeat(n)}`);
    assert.equal(deep.status, 400);
    assert.equal(errorOf(deep.body).code, "ValidationError");
    assert.match(errorOf(deep.body).message, /more than 100 levels deep/);
    // The same through the AWS endpoint: a ValidationException.
    const error = await failure(
      queryClient(s.url).send(
        new (await import("@aws-sdk/client-timestream-query")).QueryCommand({
          QueryString: `SELECT ${"abs(".repeat(5000)}1${")".repeat(5000)}`,
        }),
      ),
    );
    assert.equal(error.name, "ValidationException");
    assert.match(error.message, /more than 100 levels deep/);
    await assertHealthy(s.url);
  });

  it("accepts 100 levels, and refuses long operator chains by the tree depth", async () => {
    const ok = await postQuery(s.url, `SELECT ${"(".repeat(90)}1${")".repeat(90)} AS one`);
    assert.equal(ok.status, 200);
    const chain = await postQuery(s.url, `SELECT 1${" + 1".repeat(20_000)}`);
    assert.equal(chain.status, 400);
    assert.match(errorOf(chain.body).message, /more than 1000 levels deep/);
    const nots = await postQuery(s.url, `SELECT ${"NOT ".repeat(50_000)}true`);
    assert.equal(nots.status, 400);
    assert.match(errorOf(nots.body).message, /more than 100 levels deep/);
  });

  it("refuses a QueryString longer than Timestream's 262,144 characters", async () => {
    const long = `SELECT 1 AS x -- ${"x".repeat(262_144)}`;
    const response = await postQuery(s.url, long);
    assert.equal(response.status, 400);
    assert.match(errorOf(response.body).message, /more than Timestream's limit of 262,144/);
  });

  it("caps sequence() at 10,000 entries: constant arguments at translation, others when the query runs", async () => {
    const billion = await postQuery(s.url, "SELECT count(*) FROM UNNEST(sequence(1, 1000000000)) AS t(x)");
    assert.equal(billion.status, 400);
    assert.match(
      errorOf(billion.body).message,
      /would produce 1,000,000,000 entries, more than the limit of 10,000/,
    );
    assert.match(errorOf(billion.body).message, /querySequenceMaxEntries/);
    assert.match(errorOf(billion.body).message, /HOURGLASS_QUERY_SEQUENCE_MAX_ENTRIES/);

    const computed = await postQuery(
      s.url,
      "SELECT count(*) FROM UNNEST(sequence(1, cardinality(sequence(1, 5000)) * 3)) AS t(x)",
    );
    assert.equal(computed.status, 400);
    assert.match(errorOf(computed.body).message, /sequence\(\) would produce more than 10,000 entries/);
    assert.equal(errorOf(computed.body).context["limit"], "querySequenceMaxEntries");

    const timestamps = await postQuery(
      s.url,
      "SELECT cardinality(sequence(from_milliseconds(0), from_milliseconds(0) + 1d, 1s)) AS n",
    );
    assert.equal(timestamps.status, 400);
    assert.match(errorOf(timestamps.body).message, /more than 10,000 entries/);

    const atLimit = await postQuery(s.url, "SELECT count(*) AS n FROM UNNEST(sequence(1, 10000)) AS t(x)");
    assert.equal(atLimit.status, 200);
    const rows = atLimit.body["Rows"] as { Data: { ScalarValue: string }[] }[];
    assert.equal(rows[0]!.Data[0]!.ScalarValue, "10000");
    const hours = await postQuery(
      s.url,
      "SELECT cardinality(sequence(from_milliseconds(0), from_milliseconds(0) + 1d, 15s)) AS n",
    );
    assert.equal(hours.status, 200);
    await assertHealthy(s.url);
  });
});

describe("the time limit", () => {
  let s: Server;
  before(async () => {
    s = await startServer({ timeoutMs: 1000 });
  });
  after(() => s.close());

  it("stops a query at the configured limit with a 400 naming queryTimeoutSeconds; /health answers during and after", async () => {
    const pending = postQuery(s.url, ENDLESS);
    await until(() => s.store.queryStats().running === 1, "the query runs");
    await assertHealthy(s.url);
    const response = await pending;
    assert.equal(response.status, 400);
    const error = errorOf(response.body);
    assert.equal(error.code, "ValidationError");
    assert.match(error.message, /longer than the time limit of 1 s/);
    assert.match(error.message, /queryTimeoutSeconds/);
    assert.match(error.message, /HOURGLASS_QUERY_TIMEOUT_SECONDS/);
    assert.equal(error.context["limit"], "queryTimeoutSeconds");
    assert.equal(s.store.queryStats().timedOut, 1);
    assert.equal(s.store.queryStats().running, 0);
    await assertHealthy(s.url);
    // The store goes on answering queries (the interrupted connection is not reused).
    const next = await postQuery(s.url, "SELECT 1 AS one");
    assert.equal(next.status, 200);
  });

  it("gives the AWS endpoint a ValidationException for the same", async () => {
    const { QueryCommand } = await import("@aws-sdk/client-timestream-query");
    const error = await failure(queryClient(s.url).send(new QueryCommand({ QueryString: ENDLESS })));
    assert.equal(error.name, "ValidationException");
    assert.match(error.message, /time limit/);
  });
});

describe("a client that goes away", () => {
  let s: Server;
  before(async () => {
    s = await startServer({ timeoutMs: 10 * 60_000, maxConcurrent: 1 });
  });
  after(() => s.close());

  it("has its query interrupted (counted as cancelled, not timed out), and frees the slot for the next", async () => {
    const controller = new AbortController();
    const abandoned = postQuery(s.url, ENDLESS, controller.signal).catch((error: unknown) => error);
    await until(() => s.store.queryStats().running === 1, "the query runs");
    // With one slot, a second query waits behind it.
    const waiting = postQuery(s.url, "SELECT 2 AS two");
    await until(() => s.store.queryStats().waiting === 1, "the second query waits for the slot");
    controller.abort();
    assert.equal(((await abandoned) as Error).name, "AbortError");
    await until(() => s.store.queryStats().cancelled === 1, "the query is cancelled");
    const second = await waiting;
    assert.equal(second.status, 200);
    const stats = s.store.queryStats();
    assert.equal(stats.running, 0);
    assert.equal(stats.timedOut, 0);
    await assertHealthy(s.url);
  });

  it("also through the Timestream Query endpoint, when the SDK call is aborted", async () => {
    const { QueryCommand } = await import("@aws-sdk/client-timestream-query");
    const before = s.store.queryStats().cancelled;
    const controller = new AbortController();
    const call = queryClient(s.url)
      .send(new QueryCommand({ QueryString: ENDLESS }), { abortSignal: controller.signal })
      .catch((error: unknown) => error as Error);
    await until(() => s.store.queryStats().running === 1, "the query runs");
    controller.abort();
    assert.match(((await call) as Error).name, /Abort/);
    await until(() => s.store.queryStats().cancelled === before + 1, "the query is cancelled");
    await until(() => s.store.queryStats().running === 0, "nothing runs any more");
    assert.equal(s.store.queryStats().timedOut, 0);
  });
});

describe("the memory limit", () => {
  let s: Server;
  const from = Date.UTC(2021, 8, 22, 10, 0, 0);
  before(async () => {
    s = await startServer({ memoryLimit: "64MB", tempLimit: "16MB" }, true);
    await loadSeedData(s.store, openLocalLake(path.join(s.dir, "lake")), from, from + 3 * 3_600_000);
  });
  after(() => s.close());

  it("refuses a query that needs more with a 400 naming queryMemoryLimit, while writes go on and an export finishes", async () => {
    const writes = writeClient(s.url);
    const finishedWrites: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const result = await writes.send(
          new WriteRecordsCommand({
            DatabaseName: "airflow-db",
            TableName: "airflow-table",
            Records: [
              {
                Dimensions: [{ Name: "instance_name", Value: "i-writer" }],
                MeasureName: "cpu_nice",
                MeasureValue: String(i),
                MeasureValueType: "DOUBLE",
                Time: String(from + i * 1000),
                TimeUnit: "MILLISECONDS",
              },
            ],
          }),
        );
        assert.equal(result.RecordsIngested?.Total, 1);
        finishedWrites.push(performance.now());
      }
    })();
    await until(() => finishedWrites.length > 0, "writes run");

    const queryStarted = performance.now();
    const hungry = postQuery(s.url, MEMORY_HUNGRY);
    const exported = fetch(`${s.url}/api/v1/exports`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: seedQueryFor("2021-09-22 11:00:00", "2021-09-22 12:00:00"),
        bucket,
        key: "2021-09-22-11/my_file.csv",
        format: "csv",
        indexColumn: true,
        emptyResult: "header-only",
        provenance: {
          dagId: "query-limits-test",
          taskId: "export",
          runId: "manual",
          tryNumber: 1,
          dataIntervalStart: "2021-09-22T11:00:00Z",
          dataIntervalEnd: "2021-09-22T12:00:00Z",
          codeVersion: null,
        },
      }),
    });
    await assertHealthy(s.url);
    const response = await hungry;
    const queryEnded = performance.now();
    assert.equal(response.status, 400);
    const error = errorOf(response.body);
    assert.match(error.message, /more memory than the store's limit \(queryMemoryLimit = 64MB/);
    assert.match(error.message, /HOURGLASS_QUERY_MEMORY_LIMIT/);
    assert.match(String(error.context["limit"]), /^query(Memory|Temp)Limit$/);
    assert.equal(s.store.queryStats().outOfMemory, 1);

    const exportResponse = await exported;
    assert.equal(exportResponse.status, 200, await exportResponse.clone().text());
    const result = (await exportResponse.json()) as { rows: number };
    assert.equal(result.rows, 6 * 60); // 6 hosts, a point a minute, one point per 15 s bin
    const csv = fs.readFileSync(path.join(s.dir, "lake", bucket, "2021-09-22-11", "my_file.csv"), "utf8");
    assert.equal(csv.trimEnd().split("\n").length, 6 * 60 + 1);

    writing = false;
    await writer;
    assert.ok(
      finishedWrites.some((t) => t > queryStarted && t < queryEnded),
      "a write finished while the query ran",
    );
    await assertHealthy(s.url);
    const rows = await postQuery(
      s.url,
      'SELECT count(*) AS n FROM "airflow-db"."airflow-table" WHERE instance_name = \'i-writer\'',
    );
    assert.equal(
      (rows.body["Rows"] as { Data: { ScalarValue: string }[] }[])[0]!.Data[0]!.ScalarValue,
      String(finishedWrites.length),
    );
  });
});

describe("query limits in the configuration", () => {
  it("come from hourglass.yaml keys and environment variables, with defaults", () => {
    const cwd = tempDir("hg-query-limits-config-");
    try {
      const defaults = queryLimitsOf(resolveConfig({ cwd, env: {} }));
      assert.deepEqual(defaults, {
        timeoutMs: 300_000,
        memoryLimit: "50%",
        tempLimit: "10GB",
        maxConcurrent: 2,
        sequenceMaxEntries: 10_000,
      });
      fs.writeFileSync(path.join(cwd, "hourglass.yaml"), "queryTimeoutSeconds: 30\nqueryMemoryLimit: 2GB\n");
      const configured = queryLimitsOf(
        resolveConfig({
          cwd,
          env: { HOURGLASS_QUERY_SEQUENCE_MAX_ENTRIES: "50000", HOURGLASS_QUERY_TEMP_LIMIT: "1GB" },
        }),
      );
      assert.equal(configured.timeoutMs, 30_000);
      assert.equal(configured.memoryLimit, "2GB");
      assert.equal(configured.tempLimit, "1GB");
      assert.equal(configured.sequenceMaxEntries, 50_000);
      assert.throws(
        () => resolveConfig({ cwd, env: { HOURGLASS_QUERY_TIMEOUT_SECONDS: "7200" } }),
        /queryTimeoutSeconds/,
      );
      assert.throws(
        () => resolveConfig({ cwd, env: { HOURGLASS_QUERY_MEMORY_LIMIT: "lots" } }),
        /queryMemoryLimit: use a size/,
      );
      // Each executing query holds one of libuv's threads: two must stay for writes and file I/O.
      assert.throws(
        () => resolveConfig({ cwd, env: { HOURGLASS_QUERY_MAX_CONCURRENT: "3" } }),
        /at most 2 queries may execute at once .* raise UV_THREADPOOL_SIZE/,
      );
      const wider = resolveConfig({
        cwd,
        env: { HOURGLASS_QUERY_MAX_CONCURRENT: "6", UV_THREADPOOL_SIZE: "8" },
      });
      assert.equal(wider.queryMaxConcurrent, 6);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("a store with a smaller sequence cap applies it", async () => {
    const s = await startServer({ sequenceMaxEntries: 100 });
    try {
      const response = await postQuery(s.url, "SELECT count(*) FROM UNNEST(sequence(1, 101)) AS t(x)");
      assert.equal(response.status, 400);
      assert.match(errorOf(response.body).message, /more than the limit of 100 /);
    } finally {
      await s.close();
    }
  });
});
