/**
 * The seed's query through the Query API vs the engine, all pages, runs interleaved in one script:
 *
 * - engine: the translated SQL on a DuckDB connection of the same instance, every row read
 *   (`runAndReadAll`): the baseline;
 * - store: `store.query` then `store.query` with each NextToken, in process (rows as Datum objects);
 * - HTTP: the Timestream `Query` operation over HTTP on loopback, a plain `fetch` client that reads
 *   every page with NextToken and parses the JSON, as boto3 and the DAG read it. The server runs in
 *   this process on the same store, without signatures (as `hourglass up --no-auth`): SigV4 is the
 *   client's cost and is measured in bench/sigv4.ts.
 *
 *   node --import tsx bench/query-api.ts [--hours 6] [--runs 15] [--dir /tmp/hg-bench-query-6h]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/query-api.ts --http-only --runs 30
 *
 * The table is the one bench/query.ts loads and caches (bench/seed-table.ts).
 */
import { createApp } from "../src/api/app.js";
import { startHttpServer } from "../src/api/http-server.js";
import type { Engine } from "../src/store/engine.js";
import { TimestreamStore } from "../src/store/index.js";
import { loadAverage } from "./aws-server.js";
import { loadSeedTable, seedTable } from "./seed-table.js";
import { arg, fmt, median, peakRssMb } from "./util.js";

const hours = arg("hours", 6);
const runs = arg("runs", 15);
const httpOnly = process.argv.includes("--http-only");
const dirIndex = process.argv.indexOf("--dir");
const table = seedTable(hours, dirIndex >= 0 ? process.argv[dirIndex + 1] : undefined);
const loadBefore = loadAverage();
await loadSeedTable(table);

const store = await TimestreamStore.open({ dir: table.dir, clockMs: table.clockMs, sweepIntervalMs: 0 });
const server = await startHttpServer(createApp({ store, keys: null }));
// The engine's own connection on the store's instance (one process may open a DuckDB file once).
const engine = (store as unknown as { engine: Engine }).engine;
const connection = await engine.connect();
const translated = store.translate(table.seedQuery);

interface Run {
  rows: number;
  pages: number;
}

async function engineRun(): Promise<Run> {
  const result = await connection.runAndReadAll(translated);
  return { rows: result.currentRowCount, pages: 1 };
}

async function storeRun(): Promise<Run> {
  let page = await store.query({ QueryString: table.seedQuery });
  let rows = page.Rows.length;
  let pages = 1;
  while (page.NextToken) {
    page = await store.query({ QueryString: table.seedQuery, NextToken: page.NextToken });
    rows += page.Rows.length;
    pages++;
  }
  return { rows, pages };
}

async function httpRun(): Promise<Run> {
  let rows = 0;
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const response = await fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "Timestream_20181101.Query",
      },
      body: JSON.stringify({ QueryString: table.seedQuery, ...(nextToken ? { NextToken: nextToken } : {}) }),
    });
    const body = (await response.json()) as { Rows?: unknown[]; NextToken?: string; message?: string };
    if (!response.ok) throw new Error(`Query answered ${response.status}: ${body.message}`);
    rows += body.Rows!.length;
    pages++;
    nextToken = body.NextToken;
  } while (nextToken);
  return { rows, pages };
}

const paths = httpOnly ? (["http"] as const) : (["engine", "store", "http"] as const);
type PathName = "engine" | "store" | "http";
const runners: Record<PathName, () => Promise<Run>> = { engine: engineRun, store: storeRun, http: httpRun };
const seconds: Record<PathName, number[]> = { engine: [], store: [], http: [] };
const cpu: Record<PathName, number[]> = { engine: [], store: [], http: [] };
const shape: Partial<Record<PathName, Run>> = {};
for (const name of paths) shape[name] = await runners[name](); // warm-up, and the row counts
const expected = shape.engine?.rows ?? shape.http!.rows;
for (let r = 0; r < runs; r++) {
  // Rotate the order so that each path goes first, second and last as often.
  const order = paths.map((_, k) => paths[(k + r) % paths.length]!);
  for (const name of order) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await runners[name]();
    seconds[name].push((performance.now() - t0) / 1000);
    const used = process.cpuUsage(cpu0);
    cpu[name].push((used.user + used.system) / 1e6);
    if (result.rows !== expected) throw new Error(`${name} read ${result.rows} rows, not ${expected}`);
  }
}
connection.closeSync();
await server.close();
await store.close();

const m = (name: PathName) => median(seconds[name]);
console.log(
  `seed query over 1 h of a ${hours} h table (${fmt(hours * 3600 * 2000)} rows), ${fmt(expected)} result rows, medians of ${runs} interleaved runs`,
);
console.log(`  load average: ${loadBefore} at the start, ${loadAverage()} at the end`);
for (const name of paths) {
  const ratio = paths[0] === "engine" ? `, ratio ${(m(name) / m("engine")).toFixed(2)}` : "";
  const cpuRatio = paths[0] === "engine" ? ` (${(median(cpu[name]) / median(cpu.engine)).toFixed(2)})` : "";
  console.log(
    `  ${name.padEnd(6)}: ${m(name).toFixed(3)} s, min ${Math.min(...seconds[name]).toFixed(3)} s, CPU ${median(cpu[name]).toFixed(3)} s${cpuRatio}, ${shape[name]!.pages} page(s)${ratio}`,
  );
}
if (paths[0] === "engine") console.log("  goal: HTTP at most 1.2x the engine");
console.log(`  peak RSS: ${peakRssMb()} MB`);
