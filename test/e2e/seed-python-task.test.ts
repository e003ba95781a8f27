/**
 * The seed's task code, unchanged: examples/python/seed_task.py (boto3 + pandas, the seed's
 * wr.timestream.query then wr.s3.to_csv) run by the command DAG examples/dags/timestream-python-task.ts
 * against a real server's Timestream Query and S3 endpoints, for the same hour as the native export
 * (timestream-airflow-demo). The two files must be the same bytes.
 *
 * Needs Debian's Python with python3-boto3 and python3-pandas; skips with a printed reason otherwise.
 */

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createAccessKey } from "../../src/access/index.js";
import { bucket, demoDagFile, demoDagId, loadSeedData, type Scenario, startScenario } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const scriptFile = path.join(root, "examples", "python", "seed_task.py");
const pythonDagFile = path.join(root, "examples", "dags", "timestream-python-task.ts");
const pythonDagId = "timestream-python-task";

const probe = spawnSync(PYTHON, ["-c", "import boto3, pandas"], { encoding: "utf8" });
const skipReason =
  probe.status === 0
    ? false
    : `${PYTHON} cannot import boto3 and pandas (${(probe.stderr || probe.error?.message || "").trim().split("\n").at(-1)}); install Debian's python3-boto3 and python3-pandas to run this test`;
if (skipReason) console.log(`# skipping the seed's Python task test: ${skipReason}`);

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("the seed's task code (boto3 + pandas) against the server", { skip: skipReason }, () => {
  let s: Scenario;
  const run = promisify(execFile);
  /** A key issued for the script run by hand (the DAG's task gets the server's own). */
  let key: { accessKeyId: string; secretAccessKey: string };
  /** The script run by hand, with the server's URL and an issued key. */
  const script = (args: string[], env: Record<string, string> = {}) =>
    run(PYTHON, [scriptFile, ...args], {
      env: {
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
        AWS_DEFAULT_REGION: "us-east-1",
        ...env,
      },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  before(async () => {
    s = await startScenario({
      clockMs: () => Date.parse("2021-09-22T20:10:00Z"),
      tickMs: 200,
      dagFiles: {
        "timestream-airflow-demo.ts": fs.readFileSync(demoDagFile, "utf8"),
        "timestream-python-task.ts": fs.readFileSync(pythonDagFile, "utf8"),
      },
    });
    key = createAccessKey(s.stateDir, "seed_task.py by hand");
    // The DAG finds its script at ../python/seed_task.py, as in examples/.
    fs.mkdirSync(path.join(s.root, "python"));
    fs.copyFileSync(scriptFile, path.join(s.root, "python", "seed_task.py"));
    // Three hours of the seed's cpu_nice: 12:00 to 15:00, a point on every minute (so on each hour).
    await loadSeedData(
      s.runtime.store,
      s.runtime.lake,
      Date.parse("2021-09-22T12:00:00Z"),
      Date.parse("2021-09-22T15:00:00Z"),
    );
  });
  after(async () => s?.close());

  /**
   * Runs one hour of a DAG and returns its task log. Both DAGs start paused, where a manual run
   * waits, and unpausing them would also start their catchup (every hour since yesterday's
   * midnight); a backfill is an explicit request that runs on a paused DAG, so one hour's backfill
   * is how the test runs one logical date.
   */
  const runHour = async (dagId: string, logicalDate: string) => {
    const { workflows, events } = s.runtime;
    assert.equal((await workflows.getDag(dagId)).isPaused, true, `${dagId} starts paused`);
    const runId = `backfill__${logicalDate.replace("Z", "+00:00")}`;
    const finished = events.waitFor(
      "run:finished",
      (e) => e.run.dagId === dagId && e.run.runId === runId,
      60_000,
    );
    await workflows.createBackfill({ dagId, from: logicalDate, to: logicalDate });
    const state = (await finished).state;
    const log = (await workflows.taskLog(dagId, runId, "ts_query")).text;
    assert.equal(state, "success", log);
    return log;
  };
  const file = async (key: string) => Buffer.from(await s.runtime.lake.getObject(bucket, key));

  it("writes the native export's file for the same hour, byte for byte", async () => {
    const key = "2021-09-22-13/my_file.csv";
    await runHour(demoDagId, "2021-09-22T13:00:00Z");
    const native = await file(key);
    const manifest = JSON.parse((await file(`${key}.manifest.json`)).toString("utf8"));
    assert.equal(manifest.rows, 6 * 60);

    const log = await runHour(pythonDagId, "2021-09-22T13:00:00Z");
    assert.match(log, /Data will be uploaded to demo-airflow-ts-output\/2021-09-22-13\/my_file\.csv/);
    assert.match(log, /time >= '2021-09-22 13:00:00\+00:00' AND time < '2021-09-22 14:00:00\+00:00'/);
    assert.match(log, /copied to demo-airflow-ts-output\/2021-09-22-13\/my_file\.csv: 360 rows/);
    const python = await file(key);
    assert.ok(python.length > 0);
    // Compare line by line first, so a failure shows the first differing line rather than two blobs.
    const [nativeLines, pythonLines] = [native, python].map((b) => b.toString("utf8").split("\n"));
    assert.equal(pythonLines.length, nativeLines.length);
    for (const [i, line] of pythonLines.entries()) assert.equal(line, nativeLines[i], `line ${i + 1}`);
    assert.ok(python.equals(native));
    // So the native export's manifest still describes the file the Python task rewrote.
    assert.equal(sha256(python), manifest.sha256);
  });

  it("reads every page of a paged query (botocore's paginator) into the same file", async () => {
    const native = await file("2021-09-22-13/my_file.csv");
    await s.runtime.lake.createBucket("paged");
    const result = await script([
      "--endpoint-url",
      s.runtime.url,
      "--start",
      "2021-09-22 13:00:00+00:00",
      "--end",
      "2021-09-22T14:00:00Z",
      "--bucket",
      "paged",
      "--page-rows",
      "100",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /360 rows \(4 query pages\)/);
    assert.ok(
      Buffer.from(await s.runtime.lake.getObject("paged", "2021-09-22-13/my_file.csv")).equals(native),
    );
  });

  it("an hour without data uploads nothing and succeeds, as the seed's task did", async () => {
    const log = await runHour(pythonDagId, "2021-09-22T16:00:00Z");
    assert.match(log, /Query returned nothing - no data uploaded/);
    const listed = await s.runtime.lake.listObjects(bucket, { prefix: "2021-09-22-16/" });
    assert.deepEqual(listed.objects, []);
  });

  it("differs from the native export only where docs/operators.md says, on values the seed's query never returns", async () => {
    // The script's DataFrame code (query_frame) over the server's Query API, then pandas' to_csv,
    // against the native export's CSV writer (DuckDB) for the same query.
    const cases = {
      doubles:
        "SELECT x FROM (VALUES (0.1e0 + 0.2e0), (1e-05), (12.0), (1e16), (-2.5e0), (0.000123), (1.5e300), (12345678.9)) AS t(x)",
      nulls: "SELECT a, b FROM (VALUES (CAST(NULL AS varchar), CAST(NULL AS double)), ('z', 1.5)) AS t(a, b)",
      quoting: "SELECT x FROM (VALUES ('a,b'), ('say \"hi\"'), ('é')) AS t(x)",
      emptyString: "SELECT x FROM (VALUES (''), ('a')) AS t(x)",
      subSecond:
        "SELECT x FROM (VALUES (TIMESTAMP '2021-09-22 13:00:00'), (TIMESTAMP '2021-09-22 13:00:00.5')) AS t(x)",
      booleans: "SELECT x FROM (VALUES (true), (false)) AS t(x)",
      nullBigint: "SELECT x FROM (VALUES (CAST(NULL AS bigint)), (3)) AS t(x)",
    };
    const program = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(path.dirname(scriptFile))})`,
      "import boto3, seed_task",
      "client = boto3.client('timestream-query', endpoint_url=sys.argv[1], region_name='us-east-1')",
      "print(json.dumps({name: seed_task.query_frame(client, sql)[0].to_csv() for name, sql in json.loads(sys.argv[2]).items()}))",
    ].join("\n");
    const { stdout } = await run(PYTHON, ["-B", "-c", program, s.runtime.url, JSON.stringify(cases)], {
      env: {
        PATH: "/usr/bin:/bin",
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      },
    });
    const pandas = JSON.parse(stdout) as Record<keyof typeof cases, string>;
    const native = {} as Record<keyof typeof cases, string>;
    for (const [name, query] of Object.entries(cases) as [keyof typeof cases, string][]) {
      const file = path.join(s.root, `${name}.csv`);
      await s.runtime.store.exportQuery({ query, path: file, format: "csv", indexColumn: true });
      native[name] = fs.readFileSync(file, "utf8");
    }
    // The same bytes: floats (both print the shortest text that reads back as the same double),
    // NULLs (empty fields), quoting (RFC 4180 minimal quoting), UTF-8.
    assert.equal(
      pandas.doubles,
      ",x\n0,0.30000000000000004\n1,1e-05\n2,12.0\n3,1e+16\n4,-2.5\n5,0.000123\n6,1.5e+300\n7,12345678.9\n",
    );
    for (const name of ["doubles", "nulls", "quoting"] as const)
      assert.equal(pandas[name], native[name], name);
    // The documented differences.
    assert.deepEqual(
      { pandas: pandas.emptyString, native: native.emptyString },
      { pandas: ",x\n0,\n1,a\n", native: ',x\n0,""\n1,a\n' },
    );
    assert.deepEqual(
      { pandas: pandas.subSecond, native: native.subSecond },
      {
        pandas: ",x\n0,2021-09-22 13:00:00.000\n1,2021-09-22 13:00:00.500\n",
        native: ",x\n0,2021-09-22 13:00:00\n1,2021-09-22 13:00:00.5\n",
      },
    );
    assert.deepEqual(
      { pandas: pandas.booleans, native: native.booleans },
      { pandas: ",x\n0,True\n1,False\n", native: ",x\n0,true\n1,false\n" },
    );
    assert.deepEqual(
      { pandas: pandas.nullBigint, native: native.nullBigint },
      { pandas: ",x\n0,\n1,3.0\n", native: ",x\n0,\n1,3\n" },
    );
  });

  it("bad arguments and an unreachable server exit non-zero with the reason", async () => {
    const interval = ["--start", "2021-09-22T13:00:00Z", "--end", "2021-09-22T14:00:00Z"];
    const noInterval = await script(["--endpoint-url", s.runtime.url]);
    assert.equal(noInterval.code, 2);
    assert.match(
      noInterval.stderr,
      /the interval is missing: pass --start and --end, or set HOURGLASS_DATA_INTERVAL_START/,
    );

    const noOffset = await script([
      "--endpoint-url",
      s.runtime.url,
      "--start",
      "2021-09-22T13:00:00",
      "--end",
      "2021-09-22T14:00:00Z",
    ]);
    assert.equal(noOffset.code, 2);
    assert.match(noOffset.stderr, /--start '2021-09-22T13:00:00' has no offset: add \+00:00/);

    const backwards = await script([
      "--endpoint-url",
      s.runtime.url,
      "--start",
      "2021-09-22T14:00:00Z",
      "--end",
      "2021-09-22T13:00:00Z",
    ]);
    assert.equal(backwards.code, 2);
    assert.match(backwards.stderr, /the interval is empty/);

    const noEndpoint = await script(interval);
    assert.equal(noEndpoint.code, 2);
    assert.match(noEndpoint.stderr, /no endpoint: pass --endpoint-url .* or set HOURGLASS_ENDPOINT/);

    const noBucket = await script([...interval, "--bucket", "no-such-bucket"], {
      HOURGLASS_ENDPOINT: s.runtime.url,
    });
    assert.equal(noBucket.code, 1);
    assert.match(
      noBucket.stderr,
      /writing s3:\/\/no-such-bucket\/2021-09-22-13\/my_file\.csv failed: NoSuchBucket/,
    );

    // A port nothing listens on (1): the task fails at once, naming the address.
    const down = await script(["--endpoint-url", "http://127.0.0.1:1", ...interval]);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      /Could not connect to the endpoint URL: "http:\/\/127\.0\.0\.1:1\/.*is `hourglass up` running/,
    );
  });
});
