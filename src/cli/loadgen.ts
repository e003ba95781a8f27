/**
 * `hourglass loadgen`: the seed's load generator (kinesis_ingestor) with every option of the
 * original, into a stream (for the connector) or straight into the store; real time until Ctrl+C
 * or --loops, or a historical range as fast as the target takes it.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { HttpClient, RemoteStore } from "../api/remote.js";
import { isHourglassError, validationError } from "../errors.js";
import {
  buildModel,
  DEFAULT_SEED,
  historical,
  MAX_HOST_SCALE,
  type RecordShape,
  type RunSummary,
  realtime,
  recordsPerLoop,
} from "../loadgen/index.js";
import type { StatsSink } from "../loadgen/sinks.js";
import type { StoreService } from "../store/index.js";
import { configFrom, serverUrl } from "./context.js";
import { createProgress, formatCount } from "./progress.js";
import { integerOption, withStreams } from "./stream.js";

interface LoadgenFlags {
  stream?: string;
  to?: string[];
  database?: string;
  table?: string;
  hostScale: number;
  sleepTime: number;
  percentLate: number;
  lateTime: number;
  region?: string;
  profile?: string;
  seed: number;
  shape: RecordShape;
  events: boolean;
  realtime?: boolean;
  historical?: boolean;
  loops?: number;
  from: string;
  step: string;
  create?: boolean;
  shards: number;
}

const durationUnitsSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `10s`, `5m`, `2h`, `1d`, or a plain number of seconds. */
export function parseDurationSeconds(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw validationError(`'${text}' is not a duration (e.g. 10s, 5m, 2h, 1d)`);
  return Number(match[1]) * durationUnitsSeconds[match[2] || "s"]!;
}

/** `now`, `-24h` (before now), or an ISO-8601 time; whole epoch seconds (rounded down). */
export function parseTimeSeconds(text: string, nowMs: number): number {
  const trimmed = text.trim();
  if (trimmed === "now") return Math.floor(nowMs / 1000);
  if (trimmed.startsWith("-")) return Math.floor(nowMs / 1000) - parseDurationSeconds(trimmed.slice(1));
  const ms = Date.parse(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed) || Number.isNaN(ms)) {
    throw validationError(`'${text}' is not a time: use now, -24h (a duration before now) or ISO-8601`);
  }
  return Math.floor(ms / 1000);
}

/** `--to` names the target (store, stream) and, with --historical, the end of the range. */
function splitTo(values: string[] | undefined): { target?: "store" | "stream"; end?: string } {
  const out: { target?: "store" | "stream"; end?: string } = {};
  for (const value of values ?? []) {
    if (value === "store" || value === "stream") out.target = value;
    else out.end = value;
  }
  return out;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("must be a number >= 0");
  return n;
}

export function registerLoadgen(program: Command): void {
  program
    .command("loadgen")
    .description("generate the seed's DevOps metrics and events into a stream or the store")
    .option("--stream <name>", "put records on this stream (the original's --stream)")
    .option(
      "--to <where|when>",
      "store or stream: where records go (default stream with --stream, else store); with --historical also the end of the range: ISO-8601 or now (give --to twice for both)",
      collect,
    )
    .option("--database <name>", "database, with --to store")
    .option("--table <name>", "table, with --to store")
    .option(
      "--host-scale <n>",
      "multiplies the hosts (1000 metric series at 1)",
      integerOption(1, MAX_HOST_SCALE),
      1,
    )
    .option(
      "--sleep-time <seconds>",
      "real time: seconds between loops (the original's; 0 means 1: loops stay on whole seconds)",
      integerOption(0, 86_400),
      1,
    )
    .option("--percent-late <p>", "share of loops (0-100) sent late", nonNegativeNumber, 0)
    .option("--late-time <seconds>", "how late, in seconds", integerOption(0, 86_400 * 365), 0)
    .option("--region <region>", "accepted for compatibility and ignored (there is no AWS region)")
    .option("--profile <profile>", "accepted for compatibility and ignored (there is no AWS profile)")
    .option(
      "--seed <n>",
      "fixes the instance prefix and every value",
      integerOption(0, 2 ** 31 - 1),
      DEFAULT_SEED,
    )
    .addOption(
      new Option(
        "--shape <shape>",
        "single: one record per measure; multi: one per series (flat JSON on a stream)",
      )
        .choices(["single", "multi"])
        .default("single"),
    )
    .option("--no-events", "metrics only (no event series)")
    .option("--realtime", "a loop every --sleep-time seconds until Ctrl+C or --loops (default)")
    .option("--loops <n>", "real time: stop after this many loops", integerOption(1, 1_000_000_000))
    .option("--historical", "fill a time range as fast as the target takes it")
    .option("--from <time>", "historical: start, ISO-8601 or a duration before now such as -24h", "-1h")
    .option("--step <duration>", "historical: time between loops (10s, 1m, …)", "10s")
    .option("--create", "create the stream, or the database and table, when missing")
    .option("--shards <n>", "with --create: shards of a new stream", integerOption(1, 64), 4)
    .addHelpText(
      "after",
      `
Examples:
  hourglass loadgen --stream airflow-timestream --create          # real time, Ctrl+C to stop
  hourglass loadgen --stream airflow-timestream --loops 10 --shape multi
  hourglass loadgen --historical --from -1h --to now --database airflow-db --table airflow-table --create

The run prints a progress bar on stderr and a summary at the end. Records the store rejects (older
than the table's memory store, more than 15 minutes ahead) are counted, and the exit code is 1.`,
    )
    .action(async (o: LoadgenFlags, cmd: Command) => {
      const code = await runLoadgen(o, cmd);
      if (code !== 0) process.exitCode = code;
    });
}

async function runLoadgen(o: LoadgenFlags, cmd: Command): Promise<number> {
  const { target: explicitTarget, end } = splitTo(o.to);
  const target = explicitTarget ?? (o.stream !== undefined ? "stream" : "store");
  if (o.realtime && o.historical) throw validationError("choose --realtime or --historical, not both");
  if (!o.historical && (end !== undefined || cmd.getOptionValueSource("from") === "cli")) {
    throw validationError("--from and --to <time> are for --historical");
  }
  if (o.historical && o.loops !== undefined) throw validationError("--loops is for --realtime");
  if (target === "stream" && o.stream === undefined)
    throw validationError("--to stream needs --stream <name>");
  if (target === "store" && (o.database === undefined || o.table === undefined)) {
    throw validationError("--to store needs --database and --table (or give --stream to write to a stream)");
  }
  for (const flag of ["region", "profile"] as const) {
    if (o[flag] !== undefined)
      process.stderr.write(`note: --${flag} is ignored: Hourglass runs without AWS\n`);
  }
  if (o.sleepTime === 0 && !o.historical) {
    process.stderr.write(
      "note: --sleep-time 0 runs a loop every second (loops are stamped with whole seconds)\n",
    );
  }
  const nowMs = Date.now();
  const run = o.historical
    ? {
        from: parseTimeSeconds(o.from, nowMs),
        to: parseTimeSeconds(end ?? "now", nowMs),
        stepSeconds: parseDurationSeconds(o.step),
      }
    : undefined;
  if (run && run.stepSeconds < 1) throw validationError("--step must be at least 1s");
  if (run && run.from >= run.to)
    throw validationError(`--from must be before --to (${run.from} ≥ ${run.to})`);

  // The sinks load the stream part: imported when records are to go somewhere, not for --help.
  const { storeSink, streamSink } = await import("../loadgen/sinks.js");
  if (target === "store") {
    return withLoadgenStore(cmd, async (store, remote) => {
      if (o.create) await createTableIfMissing(store, o.database!, o.table!);
      const sink = storeSink(store, o.database!, o.table!, {
        shape: o.shape,
        ...(remote ? { recordsPerWrite: 100 } : {}),
      });
      return generate(o, sink, run, `${o.database}.${o.table}`);
    });
  }
  return withStreams(cmd, async (streams) => {
    if (o.create) {
      try {
        await streams.createStream(o.stream!, o.shards);
      } catch (error) {
        if (!isHourglassError(error, "Conflict")) throw error;
      }
    } else {
      await streams.describeStream(o.stream!); // a clear NotFound before generating anything
    }
    return generate(o, streamSink(streams, o.stream!, { shape: o.shape }), run, `stream ${o.stream}`);
  });
}

async function withLoadgenStore(
  cmd: Command,
  work: (store: StoreService, remote: boolean) => Promise<number>,
): Promise<number> {
  const config = await configFrom(cmd);
  const url = serverUrl(cmd, config);
  if (url) return work(new RemoteStore(new HttpClient(url)), true);
  const { TimestreamStore } = await import("../store/index.js");
  const store = await TimestreamStore.open({ dir: config.stateDir, sweepIntervalMs: 0 });
  try {
    return await work(store, false);
  } finally {
    await store.close();
  }
}

/** The seed's table: memory store 24 hours, magnetic store 1 day. */
async function createTableIfMissing(store: StoreService, database: string, table: string): Promise<void> {
  try {
    await store.createDatabase(database);
  } catch (error) {
    if (!isHourglassError(error, "Conflict")) throw error;
  }
  try {
    await store.createTable({
      DatabaseName: database,
      TableName: table,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    });
  } catch (error) {
    if (!isHourglassError(error, "Conflict")) throw error;
  }
}

async function generate(
  o: LoadgenFlags,
  sink: StatsSink,
  run: { from: number; to: number; stepSeconds: number } | undefined,
  where: string,
): Promise<number> {
  const common = {
    sink,
    hostScale: o.hostScale,
    seed: o.seed,
    shape: o.shape,
    includeEvents: o.events,
    percentLate: o.percentLate,
    lateSeconds: o.lateTime,
  };
  const perLoop = recordsPerLoop(
    buildModel({ hostScale: o.hostScale, seed: o.seed }),
    o.shape,
    o.events,
  ).total;
  const totalLoops = run ? Math.ceil((run.to - run.from) / run.stepSeconds) : o.loops;
  const bar = createProgress({
    label: "loadgen",
    ...(totalLoops === undefined ? {} : { total: totalLoops * perLoop }),
    unit: "records",
  });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // Announced once Ctrl+C is handled: a signal from now on ends the run with a summary.
  process.stderr.write(
    run
      ? `loadgen: ${formatCount(totalLoops ?? 0)} loops from ${new Date(run.from * 1000).toISOString()} every ${run.stepSeconds} s into ${where}\n`
      : `loadgen: a loop every ${Math.max(1, o.sleepTime)} s into ${where}${o.loops === undefined ? "; Ctrl+C to stop" : `, ${o.loops} loops`}\n`,
  );
  let summary: RunSummary;
  try {
    const onProgress = (p: { records: number }) => bar.update(p.records);
    summary = run
      ? await historical({ ...common, ...run, signal: controller.signal, onProgress })
      : await realtime({
          ...common,
          intervalSeconds: Math.max(1, o.sleepTime),
          signal: controller.signal,
          onProgress,
          ...(o.loops === undefined ? {} : { loops: o.loops }),
        });
  } finally {
    bar.done();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  printSummary(summary, sink, where);
  const problems = sink.stats.rejected + sink.stats.refused;
  if (problems > 0) {
    process.stderr.write(
      `error: ${formatCount(problems)} record(s) were not taken: ${sink.stats.firstProblem}\n`,
    );
    return 1;
  }
  return 0;
}

function printSummary(summary: RunSummary, sink: StatsSink, where: string): void {
  const time = (t: number | undefined) => (t === undefined ? "-" : new Date(t * 1000).toISOString());
  const rows: [string, string][] = [
    ["target", where],
    ["prefix", summary.prefix],
    ["loops", formatCount(summary.loops)],
    ["records", formatCount(summary.records)],
    ["taken", formatCount(sink.stats.records)],
    ["rejected", formatCount(sink.stats.rejected + sink.stats.refused)],
    ["seconds", summary.seconds.toFixed(1)],
    ["records/s", formatCount(summary.recordsPerSecond)],
    ["first time", time(summary.firstTime)],
    ["last time", time(summary.lastTime)],
    ["late loops", `${formatCount(summary.lateLoops)} (dropped ${formatCount(summary.droppedLateLoops)})`],
    ["skipped ticks", formatCount(summary.skippedTicks)],
    ["aborted", summary.aborted ? "yes" : "no"],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`loadgen summary\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n`);
}
