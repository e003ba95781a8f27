/**
 * The seed's pipeline as a demo on top of a running Hourglass: the database, table, bucket and
 * stream the seed created; the last hours filled with generated DevOps metrics (straight into the
 * store, the fast path); real-time generation through the stream and the connector (the seed's
 * Kinesis + Flink path); and the export DAG unpaused, so its catchup writes one CSV per hour.
 */
import fs from "node:fs";
import path from "node:path";
import { isHourglassError } from "../errors.js";
import type { Lake } from "../lake/index.js";
import { buildModel, historical, isLateLoop, realtime } from "../loadgen/index.js";
import { storeSink, streamSink } from "../loadgen/sinks.js";
import type { StoreService } from "../store/index.js";
import type { ConnectorAdmin, ConnectorDescription } from "../stream/connector/index.js";
import type { HourglassRuntime } from "./start.js";

export const DEMO_DATABASE = "airflow-db";
export const DEMO_TABLE = "airflow-table";
export const DEMO_BUCKET = "demo-airflow-ts-output";
export const DEMO_STREAM = "airflow-timestream";
export const DEMO_DAG = "timestream-airflow-demo";
/** The demo's managed connector (named after its stream, as `connector run` names one). */
export const DEMO_CONNECTOR = DEMO_STREAM;

/**
 * The demo's connector, stream → table, as a managed connector of the server: created when missing
 * (so it also runs under a later plain `hourglass up`), started when it exists but was stopped.
 */
export async function ensureDemoConnector(connectors: ConnectorAdmin): Promise<{
  connector: ConnectorDescription;
  created: boolean;
}> {
  try {
    const connector = await connectors.create({
      name: DEMO_CONNECTOR,
      stream: DEMO_STREAM,
      database: DEMO_DATABASE,
      table: DEMO_TABLE,
      from: "trim-horizon",
    });
    return { connector, created: true };
  } catch (error) {
    if (!isHourglassError(error, "Conflict")) throw error;
  }
  const existing = await connectors.describe(DEMO_CONNECTOR);
  if (existing.state === "running") return { connector: existing, created: false };
  return { connector: await connectors.start(DEMO_CONNECTOR), created: false };
}

/** Creates what is missing (safe to run again); returns what it created. */
export async function setUpDemoResources(store: StoreService, lake: Lake): Promise<string[]> {
  const created: string[] = [];
  const create = async (what: string, make: () => Promise<unknown>) => {
    try {
      await make();
      created.push(what);
    } catch (error) {
      if (!isHourglassError(error, "Conflict")) throw error;
    }
  };
  await create(`database ${DEMO_DATABASE}`, () => store.createDatabase(DEMO_DATABASE));
  await create(`table ${DEMO_DATABASE}.${DEMO_TABLE}`, () =>
    store.createTable({
      DatabaseName: DEMO_DATABASE,
      TableName: DEMO_TABLE,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    }),
  );
  await create(`bucket ${DEMO_BUCKET}`, () => lake.createBucket(DEMO_BUCKET));
  return created;
}

export interface DemoOptions {
  /** Hours of history to fill before unpausing the DAG (default 24). */
  fillHours?: number;
  /** Seconds between generated loops in the fill (default 60; the CLI passes its --fill-step, 5 minutes by default; the seed's generator ran every ~10 s). */
  fillStepSeconds?: number;
  hostScale?: number;
  /** Keep generating through the stream and the connector (default true). */
  realtime?: boolean;
  /** Seconds between real-time loops (default 10). */
  realtimeIntervalSeconds?: number;
  /** Real time: the share of loops (0..100) sent late, and how late (default 3 %, 600 s). */
  percentLate?: number;
  lateSeconds?: number;
  /**
   * Starts a progress display for the fill (the CLI passes its progress bar); called once with
   * what is about to be done. The runtime draws nothing itself: without it the fill is silent.
   */
  startProgress?: (work: { label: string; total: number; unit: string }) => FillProgress;
  log?: (line: string) => void;
}

/** A progress display the caller owns (the CLI's bar), told how many loops are filled. */
export interface FillProgress {
  update(loops: number): void;
  done(): void;
}

export interface Demo {
  /** Records written by the fill. */
  filledRecords: number;
  /** The demo's managed connector as it was once started; the runtime stops it with the server. */
  connector: ConnectorDescription;
  /** Stops real-time generation (the connector is the server's: runtime.stop() stops it). */
  stop(): Promise<void>;
}

/** Where the fill remembers how far it got, so a restart fills only the gap since. */
const fillMarker = (stateDir: string) => path.join(stateDir, "demo-fill.json");

export async function startDemo(
  runtime: HourglassRuntime,
  clockMs: () => number,
  options: DemoOptions = {},
): Promise<Demo> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const created = await setUpDemoResources(runtime.store, runtime.lake);
  if (created.length > 0) log(`created ${created.join(", ")}`);
  try {
    await runtime.streams.createStream(DEMO_STREAM, 1);
    log(`created stream ${DEMO_STREAM}`);
  } catch (error) {
    if (!isHourglassError(error, "Conflict")) throw error;
  }

  // 1. History, straight into the store: from where the last fill stopped (or fillHours ago) to now.
  const stepSeconds = options.fillStepSeconds ?? 60;
  const nowS = Math.floor(clockMs() / 1000);
  const earliest = nowS - (options.fillHours ?? 24) * 3600;
  let from = Math.ceil(earliest / stepSeconds) * stepSeconds;
  try {
    const marker = JSON.parse(fs.readFileSync(fillMarker(runtime.config.stateDir), "utf8")) as {
      filledTo: number;
    };
    if (marker.filledTo > from) from = marker.filledTo;
  } catch {
    // no marker: a fresh state folder
  }
  const to = Math.floor(nowS / stepSeconds) * stepSeconds;
  let filledRecords = 0;
  if (to > from) {
    const loops = Math.ceil((to - from) / stepSeconds);
    const progress = options.startProgress?.({
      label: `filling ${((to - from) / 3600).toFixed(1)} h of history`,
      total: loops,
      unit: "loops",
    });
    const sink = storeSink(runtime.store, DEMO_DATABASE, DEMO_TABLE);
    const summary = await historical({
      from,
      to,
      stepSeconds,
      hostScale: options.hostScale ?? 1,
      sink,
      onProgress: (p) => progress?.update(p.loops),
    });
    progress?.done();
    filledRecords = summary.records;
    fs.writeFileSync(fillMarker(runtime.config.stateDir), JSON.stringify({ filledTo: to }));
    log(
      `filled ${summary.records.toLocaleString("en-US")} records in ${summary.seconds.toFixed(1)} s (${Math.round(summary.recordsPerSecond).toLocaleString("en-US")} records/s)`,
    );
  }

  // 2. Real time, the seed's way: generator -> stream -> connector -> store. The connector is a
  // managed one of the server, like any a user creates with `hourglass connector create`.
  const { connector, created: connectorCreated } = await ensureDemoConnector(runtime.connectors);
  log(
    `${connectorCreated ? "created" : "using"} connector ${DEMO_CONNECTOR}: ${DEMO_STREAM} -> ${DEMO_DATABASE}.${DEMO_TABLE} (${connector.state}${connector.reason ? `: ${connector.reason}` : ""})`,
  );
  const abort = new AbortController();
  let generator: Promise<unknown> = Promise.resolve();
  if (options.realtime !== false) {
    generator = realtime({
      intervalSeconds: options.realtimeIntervalSeconds ?? 10,
      hostScale: options.hostScale ?? 1,
      // Late data, as the seed's generator could send it: the DAG re-exports the hours it lands in.
      percentLate: options.percentLate ?? 3,
      lateSeconds: options.lateSeconds ?? 600,
      sink: streamSink(runtime.streams, DEMO_STREAM),
      signal: abort.signal,
    }).catch((error: unknown) => log(`load generator stopped: ${String(error)}`));
    log(
      `generating in real time every ${options.realtimeIntervalSeconds ?? 10} s: loadgen -> stream ${DEMO_STREAM} -> connector -> ${DEMO_DATABASE}.${DEMO_TABLE} (${options.percentLate ?? 3} % of loops ${options.lateSeconds ?? 600} s late)`,
    );
  }

  // 3. The export DAG: unpaused only now, so its catchup sees the filled history.
  await runtime.workflows.setPaused(DEMO_DAG, false);
  log(
    `unpaused ${DEMO_DAG}: catchup exports each hour to ${path.join(runtime.config.lakeDir, DEMO_BUCKET)}/YYYY-MM-DD-HH/my_file.csv`,
  );

  let stopped: Promise<void> | null = null;
  return {
    filledRecords,
    connector,
    stop() {
      stopped ??= (async () => {
        abort.abort();
        await generator;
      })();
      return stopped;
    },
  };
}

/**
 * Late data after the fact, for the simulated demo (`hourglass demo --once`): for a share of the
 * fill's loop times, a loop `lateSeconds` after it (between two fill loops: new points, not
 * repeats) is written now, after the hours it belongs to were exported. The export DAG's
 * `freshness.reexportLateData` re-exports those hours once the data has settled.
 */
export async function deliverLateLoops(
  runtime: HourglassRuntime,
  options: {
    fromS: number;
    toS: number;
    stepSeconds: number;
    percentLate: number;
    lateSeconds: number;
    hostScale?: number;
  },
): Promise<{ loops: number; records: number; hours: number }> {
  const seed = buildModel({ hostScale: options.hostScale ?? 1 }).seed;
  const sink = storeSink(runtime.store, DEMO_DATABASE, DEMO_TABLE);
  const offset = options.lateSeconds % options.stepSeconds || Math.floor(options.stepSeconds / 2);
  let loops = 0;
  let records = 0;
  const hours = new Set<number>();
  const first = Math.ceil(options.fromS / options.stepSeconds) * options.stepSeconds;
  for (let t = first; t + offset < options.toS; t += options.stepSeconds) {
    if (!isLateLoop(seed, t, options.percentLate)) continue;
    const at = t + offset;
    const summary = await historical({
      from: at,
      to: at + 1,
      stepSeconds: options.stepSeconds,
      hostScale: options.hostScale ?? 1,
      sink,
    });
    loops += 1;
    records += summary.records;
    hours.add(Math.floor(at / 3600));
  }
  return { loops, records, hours: hours.size };
}
