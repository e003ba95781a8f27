/**
 * Query over 100,000 rows, every page read, three ways, runs alternating so all see the same load:
 *
 * - native: store.query in this process, then store.query with each NextToken until the last
 *   page (the rows as Timestream Datum objects, no HTTP): the baseline;
 * - boto3's paginator (`get_paginator("query").paginate(...)`) in a Python process that stays up,
 *   timed inside Python around the paginate loop, against `hourglass up` (a child process);
 * - the AWS SDK for JavaScript v3's paginator (`paginateQuery`) against the same server.
 *
 * The table is loaded once through the native path, then copied: the server opens one copy, this
 * process the other (DuckDB lets one process open a file). Goal: boto3 at most 2x the native path.
 *
 *   node --import tsx bench/aws-query-paging.ts [--rows 100000] [--runs 5] [--server-cpu-prof dir]
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { paginateQuery, TimestreamQueryClient } from "@aws-sdk/client-timestream-query";
import { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";
import { loadAverage, processCpuSeconds, serverNodeArgs, startServerChild } from "./aws-server.js";
import { arg, fmt, median, tempDir } from "./util.js";

const rowCount = arg("rows", 100_000);
const runs = arg("runs", 5);
const HOSTS = 1000;
const QUERY = 'SELECT * FROM "bench-db"."bench-table"';

const work = tempDir("hg-bench-aws-query-");
const serverDir = path.join(work, "server");
const nativeDir = path.join(work, "native");
const loadBefore = loadAverage();

// 1,000 hosts' cpu every 10 s, ending a minute ago: `rowCount` rows of 3 dimensions and a double.
{
  const store = await TimestreamStore.open({ dir: serverDir, sweepIntervalMs: 0 });
  await store.createDatabase("bench-db");
  await store.createTable({
    DatabaseName: "bench-db",
    TableName: "bench-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  const instants = Math.ceil(rowCount / HOSTS);
  const startMs = Date.now() - 60_000 - instants * 10_000;
  let written = 0;
  for (let i = 0; written < rowCount; i++) {
    const n = Math.min(HOSTS, rowCount - written);
    const records: WriteRecord[] = Array.from({ length: n }, (_, h) => ({
      Dimensions: [
        { Name: "region", Value: `region-${h % 7}` },
        { Name: "az", Value: `az-${h % 3}` },
        { Name: "hostname", Value: `host-${h}` },
      ],
      MeasureName: "cpu",
      MeasureValue: ((h * 7 + i * 13) % 10_000).toString(),
      MeasureValueType: "DOUBLE",
      Time: String(startMs + i * 10_000),
    }));
    const result = await store.writeRecords(
      { DatabaseName: "bench-db", TableName: "bench-table", Records: records },
      { maxRecords: records.length },
    );
    if (result.rejected.length > 0) throw new Error(result.rejected[0]!.Reason);
    written += n;
  }
  await store.checkpoint();
  await store.close();
  fs.cpSync(serverDir, nativeDir, { recursive: true });
}

const store = await TimestreamStore.open({ dir: nativeDir, sweepIntervalMs: 0 });
const server = await startServerChild(serverDir, { nodeArgs: serverNodeArgs() });

interface Run {
  seconds: number;
  rows: number;
  pages: number;
}

async function nativeRun(): Promise<Run> {
  const started = performance.now();
  let page = await store.query({ QueryString: QUERY });
  let rows = page.Rows.length;
  let pages = 1;
  while (page.NextToken) {
    page = await store.query({ QueryString: QUERY, NextToken: page.NextToken });
    rows += page.Rows.length;
    pages++;
  }
  return { seconds: (performance.now() - started) / 1000, rows, pages };
}

const jsClient = new TimestreamQueryClient({
  region: "us-east-1",
  endpoint: server.url,
  credentials: server.credentials,
  maxAttempts: 1,
});
async function jsRun(): Promise<Run> {
  const started = performance.now();
  let rows = 0;
  let pages = 0;
  for await (const page of paginateQuery({ client: jsClient }, { QueryString: QUERY })) {
    rows += page.Rows?.length ?? 0;
    pages++;
  }
  return { seconds: (performance.now() - started) / 1000, rows, pages };
}

// boto3 in one Python process: a line on stdin runs the paginator once, a JSON line answers.
const PYTHON_SCRIPT = `
import json, sys, time
import boto3
endpoint, key, secret, query = sys.argv[1:5]
client = boto3.client("timestream-query", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key, aws_secret_access_key=secret)
print(json.dumps({"boto3": boto3.__version__}), flush=True)
for _ in sys.stdin:
    started = time.perf_counter()
    rows = pages = 0
    for page in client.get_paginator("query").paginate(QueryString=query):
        rows += len(page["Rows"])
        pages += 1
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows, "pages": pages}), flush=True)
`;
const python = spawnSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).stdout.trim() || "python3";
const boto3 = spawn(
  python,
  [
    "-c",
    PYTHON_SCRIPT,
    server.url,
    server.credentials.accessKeyId,
    server.credentials.secretAccessKey,
    QUERY,
  ],
  { stdio: ["pipe", "pipe", "inherit"] },
);
const lines = readline.createInterface({ input: boto3.stdout! })[Symbol.asyncIterator]();
const nextLine = async (): Promise<Record<string, unknown>> => {
  const line = await lines.next();
  if (line.done) throw new Error(`${python} with boto3 stopped (is boto3 installed for it?)`);
  return JSON.parse(line.value) as Record<string, unknown>;
};
const boto3Version = String((await nextLine())["boto3"]);
async function boto3Run(): Promise<Run> {
  boto3.stdin!.write("run\n");
  return (await nextLine()) as unknown as Run;
}

/** Runs `work`, noting the server's CPU seconds over it. */
async function withServerCpu(work: () => Promise<Run>, into: number[]): Promise<Run> {
  const before = processCpuSeconds(server.pid);
  const result = await work();
  into.push(processCpuSeconds(server.pid) - before);
  return result;
}

const paths = ["native", "boto3", "js"] as const;
const runners = { native: nativeRun, boto3: boto3Run, js: jsRun };
const times: Record<(typeof paths)[number], Run[]> = { native: [], boto3: [], js: [] };
const serverCpu: Record<"boto3" | "js", number[]> = { boto3: [], js: [] };
for (const name of paths) await runners[name](); // warm-up
for (let r = 0; r < runs; r++) {
  // A different order each run: each path goes first, second and last as often.
  const order =
    r % 3 === 0
      ? paths
      : r % 3 === 1
        ? (["boto3", "js", "native"] as const)
        : (["js", "native", "boto3"] as const);
  for (const name of order) {
    const result =
      name === "native" ? await runners.native() : await withServerCpu(runners[name], serverCpu[name]);
    if (result.rows !== rowCount)
      throw new Error(`${name} read ${result.rows} rows, not ${rowCount}: the paging lost or repeated rows`);
    times[name].push(result);
  }
}

boto3.stdin!.end();
jsClient.destroy();
await server.stop();
await store.close();
fs.rmSync(work, { recursive: true, force: true });

const seconds = (name: (typeof paths)[number]) => median(times[name].map((t) => t.seconds));
const nativeSeconds = seconds("native");
console.log(`Query over ${fmt(rowCount)} rows (${QUERY}), every page, median of ${runs} runs`);
console.log(`  load average: ${loadBefore} at the start, ${loadAverage()} at the end`);
console.log(`  signatures: ${server.auth}`);
console.log(
  `  native store.query + NextToken (in process): ${nativeSeconds.toFixed(3)} s (${times.native[0]!.pages} pages)`,
);
console.log(
  `  boto3 ${boto3Version} paginator -> hourglass up:  ${seconds("boto3").toFixed(3)} s (${times.boto3[0]!.pages} pages; server CPU ${median(serverCpu.boto3).toFixed(3)} s), ratio ${(seconds("boto3") / nativeSeconds).toFixed(2)} (goal: at most 2)`,
);
console.log(
  `  JS SDK paginateQuery -> hourglass up:     ${seconds("js").toFixed(3)} s (${times.js[0]!.pages} pages; server CPU ${median(serverCpu.js).toFixed(3)} s), ratio ${(seconds("js") / nativeSeconds).toFixed(2)}`,
);
