/**
 * Peers: the same table (the WORKLOAD model's 1,000 hosts x 20 metrics every 10 s, N hours ending
 * at the last whole hour) in Hourglass, ClickHouse and InfluxDB on this machine, in one script:
 *
 * - ingest: the store's write paths (writeRecords, writeColumns; the records or columns built
 *   before the clock starts) against InfluxDB line protocol over HTTP and ClickHouse TSV inserts
 *   over HTTP (the bodies built before the clock starts too), in values (records) a second;
 * - the seed's query over the last hour: Hourglass's engine (the translated SQL on a copy of the
 *   DuckDB file), store.query with every page in process, the Query API over HTTP (the AWS SDK's
 *   paginateQuery against `hourglass up`), ClickHouse and InfluxDB, runs interleaved (the order
 *   rotates each run), medians and ratios; the rows of every path are checked against the
 *   engine's, and the script fails if any differ beyond a rounding tie of the last digit.
 *
 * ClickHouse and InfluxDB are Debian's packages, installed with apt-get when missing, started by
 * this script as child processes on free loopback ports over a temporary folder and stopped at
 * the end (an error included). A peer that cannot be installed or started is skipped with a line.
 *
 *   node --import tsx bench/peers.ts [--hours 1] [--runs 5] [--loops-per-write 2]
 *        [--clickhouse-loops-per-write 10] [--no-clickhouse] [--no-influx] [--keep dir]
 */
import fs from "node:fs";
import path from "node:path";
import { paginateQuery, TimestreamQueryClient } from "@aws-sdk/client-timestream-query";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  buildModel,
  type ColumnarLoop,
  type GeneratedLoop,
  generateLoop,
  METRIC_DIMENSIONS,
  METRIC_MEASURES,
  toColumnarLoop,
  toSingleMeasureRecords,
} from "../src/loadgen/index.js";
import { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";
import { loadAverage, startServerChild } from "./aws-server.js";
import {
  clickHouse,
  ensureInstalled,
  influxQuery,
  influxWrite,
  type PeerServer,
  startClickHouse,
  startInflux,
} from "./peers-servers.js";
import { arg, fmt, median, tempDir } from "./util.js";

const hours = arg("hours", 1);
const runs = arg("runs", 5);
const loopsPerWrite = arg("loops-per-write", 2);
// ClickHouse makes a data part per insert and wants few, large inserts (its documentation's advice).
const clickHouseLoopsPerWrite = arg("clickhouse-loops-per-write", 10);
const withClickHouse = !process.argv.includes("--no-clickhouse");
const withInflux = !process.argv.includes("--no-influx");
if (!Number.isInteger(hours) || hours < 1 || hours > 23)
  throw new Error(
    `--hours must be a whole number of hours in 1..23 (the table's 24-hour memory store), got ${hours}`,
  );
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive whole number, got ${runs}`);

// Data ends at the last whole hour (the store and the server take writes within 24 h of now).
const END_S = Math.floor(Date.now() / 3_600_000) * 3600;
const START_S = END_S - hours * 3600;
// One loop more than the hours hold: the point on the closing hour, which the seed's BETWEEN
// includes (14,460 result rows for the last hour, as in bench/query.ts, not 14,400).
const LOOPS = hours * 360 + 1;
const queryStart = END_S - 3600; // the last hour of the table
const queryEnd = END_S;
const iso = (s: number) => new Date(s * 1000).toISOString().replace("T", " ").replace(".000Z", "+00:00");
const SEED_QUERY = `SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '${iso(queryStart)}' AND '${iso(queryEnd)}' GROUP BY region, instance_name, availability_zone, BIN(time, 15s) ORDER BY binned_timestamp ASC`;

const model = buildModel({ hostScale: 1 });
const loopAt = (k: number): GeneratedLoop => generateLoop(model, START_S + k * 10, { includeEvents: false });
const work = process.argv.includes("--keep")
  ? process.argv[process.argv.indexOf("--keep") + 1]!
  : tempDir("hg-bench-peers-");
fs.mkdirSync(work, { recursive: true });
const loadBefore = loadAverage();
const cleanups: (() => Promise<void>)[] = [];

/** One row of the seed query's answer, normalised: instance, bin start in epoch seconds, 4 numbers. */
type Row = [string, number, number, number, number, number];

interface IngestResult {
  values: number;
  seconds: number;
  perCall: string;
}

// ---- Ingest ---------------------------------------------------------------------------------

/** Runs `write` over the table's loops in groups of `perCall`, timing only the write calls. */
async function timedWrites<T>(
  perCall: number,
  build: (loops: GeneratedLoop[]) => T,
  write: (body: T) => Promise<void>,
): Promise<number> {
  let busyMs = 0;
  for (let l = 0; l < LOOPS; l += perCall) {
    const loops: GeneratedLoop[] = [];
    for (let k = l; k < Math.min(LOOPS, l + perCall); k++) loops.push(loopAt(k));
    const body = build(loops);
    const t0 = performance.now();
    await write(body);
    busyMs += performance.now() - t0;
  }
  return busyMs / 1000;
}

async function createSeedTable(store: TimestreamStore): Promise<void> {
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
}

/** The query's table, loaded through writeRecords (WriteRecords-shaped, single-measure). */
async function hourglassWriteRecords(dir: string): Promise<IngestResult> {
  const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
  await createSeedTable(store);
  const seconds = await timedWrites(
    loopsPerWrite,
    (loops) => loops.flatMap((loop) => toSingleMeasureRecords(loop)),
    async (records: WriteRecord[]) => {
      const result = await store.writeRecords(
        { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
        { maxRecords: records.length },
      );
      if (result.rejected.length > 0) throw new Error(`writeRecords rejected: ${result.rejected[0]!.Reason}`);
    },
  );
  await store.checkpoint();
  await store.close();
  return { values: LOOPS * 20_000, seconds, perCall: `${fmt(loopsPerWrite * 20_000)} records a call` };
}

/** The same values through the columnar path, into a table of its own, then dropped. */
async function hourglassWriteColumns(dir: string): Promise<IngestResult> {
  const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
  await createSeedTable(store);
  const seconds = await timedWrites(
    loopsPerWrite,
    (loops) => {
      const parts: ColumnarLoop[] = loops.map(toColumnarLoop);
      const size = parts.reduce((n, p) => n + p.seriesIndex.length, 0);
      const seriesIndex = new Int32Array(size);
      const measureIndex = new Int32Array(size);
      const values: (number | bigint | string)[] = [];
      const timeNs: bigint[] = [];
      let at = 0;
      for (const p of parts) {
        seriesIndex.set(p.seriesIndex, at);
        measureIndex.set(p.measureIndex, at);
        for (const v of p.values) values.push(v);
        for (let i = 0; i < p.seriesIndex.length; i++) timeNs.push(p.timeNs);
        at += p.seriesIndex.length;
      }
      return { parts, seriesIndex, measureIndex, values, timeNs };
    },
    async ({ parts, seriesIndex, measureIndex, values, timeNs }) => {
      const result = await store.writeColumns({
        DatabaseName: "airflow-db",
        TableName: "airflow-table",
        series: parts[0]!.series,
        measures: parts[0]!.measures,
        seriesIndex,
        measureIndex,
        values,
        timeNs,
      });
      if (result.rejected.length > 0) throw new Error(`writeColumns rejected: ${result.rejected[0]!.Reason}`);
    },
  );
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { values: LOOPS * 20_000, seconds, perCall: `${fmt(loopsPerWrite * 20_000)} values a call` };
}

// Each series' dimensions as text, made once: a TSV prefix for ClickHouse, a tag set for InfluxDB.
const tsvPrefix = model.metricSeries.map((s) => METRIC_DIMENSIONS.map((d) => s[d]).join("\t"));
const sortedTagNames = [...METRIC_DIMENSIONS].sort();
const tagSet = model.metricSeries.map((s) => sortedTagNames.map((d) => `${d}=${s[d]}`).join(","));

const CLICKHOUSE_TABLE = `CREATE TABLE metrics (${METRIC_DIMENSIONS.map((d) => `${d} String`).join(", ")},
  measure_name String, time DateTime, measure_value_double Float64)
  ENGINE = MergeTree ORDER BY (measure_name, time)`;

/** The same single-measure rows (one a value, as Timestream's table), as TSV over HTTP. */
async function clickHouseIngest(url: string): Promise<IngestResult> {
  await clickHouse(url, CLICKHOUSE_TABLE);
  const insert = `INSERT INTO metrics (${METRIC_DIMENSIONS.join(", ")}, measure_name, time, measure_value_double) FORMAT TabSeparated`;
  const seconds = await timedWrites(
    clickHouseLoopsPerWrite,
    (loops) => {
      const lines: string[] = [];
      for (const loop of loops) {
        const time = iso(loop.time).replace("+00:00", "");
        for (const measure of METRIC_MEASURES) {
          const column = loop.metrics[measure];
          for (let i = 0; i < column.length; i++)
            lines.push(`${tsvPrefix[i]}\t${measure}\t${time}\t${column[i]}\n`);
        }
      }
      return lines.join("");
    },
    async (body) => {
      await clickHouse(url, insert, body);
    },
  );
  const count = Number(await clickHouse(url, "SELECT count() FROM metrics"));
  if (count !== LOOPS * 20_000)
    throw new Error(`ClickHouse holds ${count} rows after the load, not ${LOOPS * 20_000}`);
  return { values: count, seconds, perCall: `${fmt(clickHouseLoopsPerWrite * 20_000)} rows an insert` };
}

/** One point a series and loop with the 20 measures as fields (InfluxDB's own shape), over HTTP. */
async function influxIngest(url: string): Promise<IngestResult> {
  await influxQuery(url, "", "CREATE DATABASE bench");
  const seconds = await timedWrites(
    loopsPerWrite,
    (loops) => {
      const lines: string[] = [];
      for (const loop of loops) {
        for (let i = 0; i < model.metricSeries.length; i++) {
          const fields = METRIC_MEASURES.map((m) => `${m}=${loop.metrics[m][i]}`).join(",");
          lines.push(`metrics,${tagSet[i]} ${fields} ${loop.time}\n`);
        }
      }
      return lines.join("");
    },
    (body) => influxWrite(url, "bench", body),
  );
  const counted = await influxQuery(url, "bench", "SELECT count(cpu_nice) FROM metrics");
  const points = Number(counted[0]?.values[0]?.[1] ?? 0);
  if (points !== LOOPS * 1000)
    throw new Error(`InfluxDB holds ${points} points after the load, not ${LOOPS * 1000}`);
  return {
    values: points * 20,
    seconds,
    perCall: `${fmt(loopsPerWrite * 1000)} lines (${fmt(loopsPerWrite * 20_000)} values) a write`,
  };
}

// ---- The seed's query on each --------------------------------------------------------------

const round2 = (v: number) => Math.round(v * 100) / 100;
const binSeconds = (timestamp: string) => Date.parse(`${timestamp.slice(0, 19).replace(" ", "T")}Z`) / 1000;

// ClickHouse: the nearest-rank percentile Timestream's APPROX_PERCENTILE and our quantile_disc
// give, as the issue writes it (n - floor(n - n*q) is ceil(n*q) without ceil's float trap).
const clickHousePercentile = (q: number) => `round(s[toUInt64(greatest(1, n - floor(n - n * ${q})))], 2)`;
const CLICKHOUSE_QUERY = `SELECT instance_name, binned, avg_v, ${clickHousePercentile(0.9)}, ${clickHousePercentile(0.95)}, ${clickHousePercentile(0.99)}
  FROM (SELECT region, instance_name, availability_zone, intDiv(toUInt32(time), 15) * 15 AS binned,
      round(avg(measure_value_double), 2) AS avg_v, arraySort(groupArray(measure_value_double)) AS s, length(s) AS n
    FROM metrics WHERE measure_name = 'cpu_nice' AND time BETWEEN toDateTime(${queryStart}) AND toDateTime(${queryEnd})
    GROUP BY region, instance_name, availability_zone, binned)
  ORDER BY binned FORMAT TabSeparated`;

async function clickHouseRows(url: string): Promise<Row[]> {
  const text = await clickHouse(url, CLICKHOUSE_QUERY);
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const [name, bin, ...numbers] = line.split("\t");
      return [name!, Number(bin), ...numbers.map(Number)] as Row;
    });
}

// InfluxDB: percentile() is nearest-rank; InfluxQL's round() rounds to a whole number only, so the
// two decimals are rounded here (half away from zero on the double, as DuckDB's round).
const INFLUX_QUERY = `SELECT mean(cpu_nice), percentile(cpu_nice, 90), percentile(cpu_nice, 95), percentile(cpu_nice, 99)
  FROM metrics WHERE time >= '${new Date(queryStart * 1000).toISOString()}' AND time <= '${new Date(queryEnd * 1000).toISOString()}'
  GROUP BY time(15s), region, instance_name, availability_zone fill(none)`;

async function influxRows(url: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const series of await influxQuery(url, "bench", INFLUX_QUERY)) {
    for (const [time, ...numbers] of series.values)
      rows.push([series.tags!.instance_name!, Number(time), ...numbers.map((v) => round2(Number(v)))] as Row);
  }
  return rows;
}

/** Rows as Timestream's Query API answers them (every value a ScalarValue string). */
function datumRows(rows: { Data?: { ScalarValue?: string }[] }[]): Row[] {
  return rows.map((row) => {
    const [name, bin, ...numbers] = row.Data!.map((d) => d.ScalarValue!);
    return [name!, binSeconds(bin!), ...numbers.map(Number)] as Row;
  });
}

/**
 * Compares two answers as multisets of rows (the order inside a bin is free). A number one unit
 * off in the second decimal is a rounding tie decided differently (an average or a value that
 * sits at .xx5 in binary); anything else is a different answer.
 */
function compareRows(
  name: string,
  expected: Row[],
  actual: Row[],
  maxProblems = 5,
): { ties: number; problems: string[]; rowsDiffering: number } {
  const key = (r: Row) => `${r[0]}|${r[1]}|${(r.slice(2) as number[]).map((v) => v.toFixed(2)).join("|")}`;
  const a = [...expected].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const b = [...actual].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const problems: string[] = [];
  let ties = 0;
  let rowsDiffering = 0;
  if (a.length !== b.length) problems.push(`${name}: ${fmt(b.length)} rows, not ${fmt(a.length)}`);
  for (let i = 0; i < Math.min(a.length, b.length) && problems.length < maxProblems; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x[0] !== y[0] || x[1] !== y[1]) {
      problems.push(`${name}: row ${i} is ${JSON.stringify(y)}, expected ${JSON.stringify(x)}`);
      rowsDiffering++;
      continue;
    }
    let differs = false;
    for (let c = 2; c < 6; c++) {
      const diff = Math.abs((x[c] as number) - (y[c] as number));
      if (diff < 1e-9) continue;
      if (diff <= 0.0100001) ties++;
      else differs = true;
    }
    if (differs) {
      rowsDiffering++;
      problems.push(`${name}: row ${i} is ${JSON.stringify(y)}, expected ${JSON.stringify(x)}`);
    }
  }
  return { ties, problems, rowsDiffering };
}

/**
 * The seed query's rows from the engine's DuckDB file written by hand with InfluxDB's percentile
 * rank, floor(n*p/100 + 0.5) (1-based; computed as InfluxDB does, n*p first, then /100): the
 * reference InfluxDB's answer must equal. The table is the first the store made (t1), as in
 * bench/query.ts.
 */
async function engineRowsWithInfluxRank(connection: DuckDBConnection): Promise<Row[]> {
  const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
  const measure = (await read("SELECT measure_id FROM _hg.t1_measures WHERE measure_name = 'cpu_nice'"))[0]!;
  const dims = (await read(
    "SELECT name, physical FROM _hg.columns WHERE table_id = 1 AND kind = 'dimension'",
  )) as { name: string; physical: string }[];
  const col = (name: string) => `s.${dims.find((d) => d.name === name)!.physical}`;
  const at = (s: number) => `TIMESTAMP_NS '${iso(s).replace("+00:00", "")}'`;
  const rank = (p: number) => `round(l[greatest(1, floor(n * ${p}.0 / 100.0 + 0.5))::BIGINT], 2)`;
  const sql = `SELECT instance_name, bin, round(a, 2), ${rank(90)}, ${rank(95)}, ${rank(99)}
    FROM (SELECT ${col("instance_name")} AS instance_name, epoch(time_bucket(INTERVAL 15 SECOND, p.time))::BIGINT AS bin,
        avg(p.v_double) AS a, list_sort(list(p.v_double)) AS l, count(*) AS n
      FROM _hg.t1_points p JOIN _hg.t1_series s ON s.series_id = p._series_id
      WHERE p._measure_id = ${measure.measure_id} AND p.time BETWEEN ${at(queryStart)} AND ${at(queryEnd)}
      GROUP BY ${col("region")}, ${col("instance_name")}, ${col("availability_zone")}, bin)`;
  return (await connection.runAndReadAll(sql)).getRowsJson().map((row) => {
    const [name, bin, ...numbers] = row as (string | number)[];
    return [String(name), Number(bin), ...numbers.map(Number)] as Row;
  });
}

// ---- The run -------------------------------------------------------------------------------

interface QueryPath {
  name: string;
  run: () => Promise<Row[]>;
  times: number[];
}

async function main(): Promise<void> {
  console.log(
    `peers: ${hours} h table (${fmt(LOOPS)} loops, ${fmt(LOOPS * 20_000)} values: 1,000 hosts x 20 metrics every 10 s), ${iso(START_S)} to ${iso(END_S)}`,
  );
  const ingest: { name: string; result: IngestResult }[] = [];
  const storeDir = path.join(work, "hourglass");
  process.stderr.write("loading Hourglass (writeRecords)\n");
  ingest.push({ name: "Hourglass writeRecords", result: await hourglassWriteRecords(storeDir) });
  process.stderr.write("loading Hourglass (writeColumns, a second store)\n");
  ingest.push({
    name: "Hourglass writeColumns",
    result: await hourglassWriteColumns(path.join(work, "columns")),
  });

  const peers: { server: PeerServer; rows: () => Promise<Row[]> }[] = [];
  const skipped: string[] = [];
  const tryPeer = async (
    name: string,
    binary: string,
    pkg: string,
    start: (bin: string, dir: string) => Promise<PeerServer>,
    load: (url: string) => Promise<IngestResult>,
    rows: (url: string) => Promise<Row[]>,
  ) => {
    const found = ensureInstalled(binary, pkg);
    if ("missing" in found) {
      skipped.push(`${name} skipped: ${found.missing}`);
      return;
    }
    const dir = path.join(work, name.toLowerCase());
    fs.mkdirSync(dir, { recursive: true });
    let server: PeerServer;
    try {
      server = await start(found.path, dir);
    } catch (error) {
      skipped.push(
        `${name} skipped: it did not start (${(error as Error).message.split("\n")[0]}); logs in ${dir}`,
      );
      return;
    }
    cleanups.push(() => server.stop());
    process.stderr.write(`loading ${name} ${server.version}\n`);
    ingest.push({ name: `${name} ${server.version}`, result: await load(server.url) });
    peers.push({ server, rows: () => rows(server.url) });
  };
  if (withClickHouse)
    await tryPeer(
      "ClickHouse",
      "clickhouse-server",
      "clickhouse-server",
      startClickHouse,
      clickHouseIngest,
      clickHouseRows,
    );
  else skipped.push("ClickHouse skipped: --no-clickhouse");
  if (withInflux) await tryPeer("InfluxDB", "influxd", "influxdb", startInflux, influxIngest, influxRows);
  else skipped.push("InfluxDB skipped: --no-influx");

  // The store's folder three times: this process's store, the engine's DuckDB, the server's.
  const engineDir = path.join(work, "engine");
  const serverDir = path.join(work, "server");
  fs.cpSync(storeDir, engineDir, { recursive: true });
  fs.cpSync(storeDir, serverDir, { recursive: true });
  const store = await TimestreamStore.open({ dir: storeDir, sweepIntervalMs: 0 });
  cleanups.push(() => store.close());
  const translated = store.translate(SEED_QUERY);
  const instance = await DuckDBInstance.create(path.join(engineDir, "store.duckdb"));
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  cleanups.push(async () => {
    connection.closeSync();
    instance.closeSync();
  });
  process.stderr.write("starting hourglass up\n");
  const server = await startServerChild(serverDir);
  cleanups.push(() => server.stop());
  const client = new TimestreamQueryClient({
    region: "us-east-1",
    endpoint: server.url,
    credentials: server.credentials,
    maxAttempts: 1,
  });
  cleanups.push(async () => client.destroy());

  const paths: QueryPath[] = [
    {
      name: "Hourglass engine (translated SQL, DuckDB)",
      run: async () =>
        (await connection.runAndReadAll(translated)).getRowsJson().map((row) => {
          const [name, bin, ...numbers] = row as (string | number)[];
          return [String(name), binSeconds(String(bin)), ...numbers.map(Number)] as Row;
        }),
      times: [],
    },
    {
      name: "Hourglass store.query, every page (in process)",
      run: async () => {
        const rows: Row[] = [];
        let page = await store.query({ QueryString: SEED_QUERY });
        rows.push(...datumRows(page.Rows));
        while (page.NextToken) {
          page = await store.query({ QueryString: SEED_QUERY, NextToken: page.NextToken });
          rows.push(...datumRows(page.Rows));
        }
        return rows;
      },
      times: [],
    },
    {
      name: "Hourglass Query API (JS SDK paginateQuery -> hourglass up)",
      run: async () => {
        const rows: Row[] = [];
        for await (const page of paginateQuery({ client }, { QueryString: SEED_QUERY }))
          rows.push(...datumRows(page.Rows ?? []));
        return rows;
      },
      times: [],
    },
    ...peers.map((p) => ({
      name: `${p.server.name} ${p.server.version}`,
      run: p.rows,
      times: [] as number[],
    })),
  ];

  // Warm-up and the check: every path's rows against the engine's. InfluxDB's percentile() takes
  // the value of rank floor(n*p/100 + 0.5) (n*p rounded), not Timestream's ceil(n*q), so its rows
  // are checked against the same data with InfluxDB's rank, and the rows where the two
  // definitions part are counted.
  const answers = new Map<string, Row[]>();
  for (const p of paths) answers.set(p.name, await p.run());
  const expected = answers.get(paths[0]!.name)!;
  const influxReference = await engineRowsWithInfluxRank(connection);
  const checks = paths.slice(1).map((p) => {
    const influx = p.name.startsWith("InfluxDB");
    const reference = influx ? influxReference : expected;
    const check = compareRows(p.name, reference, answers.get(p.name)!);
    const note = influx
      ? ` against InfluxDB's rank on the engine's data; ${fmt(compareRows("", expected, influxReference, Number.POSITIVE_INFINITY).rowsDiffering)} rows of ${fmt(expected.length)} differ from Timestream's nearest rank`
      : "";
    return { name: p.name, note, ...check };
  });

  for (let r = 0; r < runs; r++) {
    // Rotate the order so that each path runs first, second, … as often as the others.
    for (let k = 0; k < paths.length; k++) {
      const p = paths[(r + k) % paths.length]!;
      const t0 = performance.now();
      const rows = await p.run();
      p.times.push((performance.now() - t0) / 1000);
      if (rows.length !== expected.length)
        throw new Error(`${p.name} returned ${rows.length} rows on run ${r + 1}`);
    }
  }

  const rate = (r: IngestResult) => r.values / r.seconds;
  const baseline = ingest[0]!.result;
  console.log(`load average: ${loadBefore} at the start, ${loadAverage()} at the end`);
  for (const line of skipped) console.log(line);
  console.log("ingest (only the write calls timed; bodies and records built before), values a second:");
  for (const { name, result } of ingest)
    console.log(
      `  ${name.padEnd(24)} ${fmt(rate(result)).padStart(10)}/s  (${result.seconds.toFixed(1)} s, ${result.perCall}; ratio to writeRecords ${(rate(result) / rate(baseline)).toFixed(2)})`,
    );
  const engineMedian = median(paths[0]!.times);
  console.log(
    `seed query over the last hour (${fmt(expected.length)} rows), median of ${runs} interleaved runs:`,
  );
  for (const p of paths)
    console.log(
      `  ${p.name.padEnd(60)} ${median(p.times).toFixed(3)} s  (min ${Math.min(...p.times).toFixed(3)}; ${(median(p.times) / engineMedian).toFixed(2)}x the engine)`,
    );
  let failed = false;
  for (const check of checks) {
    if (check.problems.length > 0) {
      failed = true;
      for (const problem of check.problems) console.log(`  ROWS DIFFER: ${problem}`);
    } else
      console.log(
        `  rows equal: ${check.name}${check.note}${check.ties > 0 ? ` (${check.ties} values one unit off in the 2nd decimal: rounding ties)` : ""}`,
      );
  }
  if (failed)
    throw new Error("the peers' rows differ from Hourglass's (above): the timings compare different answers");
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse())
    await cleanup().catch((error) => process.stderr.write(`cleanup: ${error}\n`));
  if (!process.argv.includes("--keep")) fs.rmSync(work, { recursive: true, force: true });
}
