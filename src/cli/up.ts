/**
 * `hourglass up` (everything in one process, until Ctrl+C) and `hourglass demo --once` (the seed's
 * pipeline in simulated time, then a summary).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { readServerInfo } from "../api/remote.js";
import { HourglassError } from "../errors.js";
import type { Demo, HourglassRuntime } from "../runtime/index.js";
import type { GlobalOptions } from "./context.js";
import { usageLines } from "./keys.js";
import { createProgress } from "./progress.js";

const EXAMPLE_DAGS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "examples",
  "dags",
);

/** The server's modules, imported when `up` or `demo` runs, not for --help (see main.ts). */
async function serverModules() {
  const [config, runtime] = await Promise.all([import("../config.js"), import("../runtime/index.js")]);
  return {
    resolveConfig: config.resolveConfig,
    startHourglass: runtime.startHourglass,
    startDemo: runtime.startDemo,
    deliverLateLoops: runtime.deliverLateLoops,
    DEMO_BUCKET: runtime.DEMO_BUCKET,
    DEMO_DAG: runtime.DEMO_DAG,
  };
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return n;
};

/** "60", "60s", "10m", "1h" as seconds. */
export const seconds = (value: string): number => {
  const match = /^(\d+)(s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`'${value}' is not a duration like 10s, 5m or 1h`);
  const n = Number(match[1]);
  const factor = match[2] === "h" ? 3600 : match[2] === "m" ? 60 : 1;
  if (n * factor <= 0) throw new InvalidArgumentError("the duration must be positive");
  return n * factor;
};

interface UpOptions {
  demo?: boolean;
  port?: number;
  host?: string;
  workers?: number;
  dags?: string;
  realtime: boolean;
  /** False with --no-auth. */
  auth: boolean;
  fillHours: number;
  fillStep: number;
  hostScale: number;
}

function demoFlags(command: Command): Command {
  return command
    .option("--fill-hours <n>", "hours of history to generate before unpausing the DAG", positiveInt, 24)
    .option(
      "--fill-step <duration>",
      "time between generated loops in the history (default 5m: 7.5 M records for 24 h; 10s is the seed's density, 30x the records)",
      seconds,
      300,
    )
    .option("--host-scale <n>", "the load generator's host scale (1 = 1,000 hosts)", positiveInt, 1);
}

/**
 * Resolves with the first SIGINT or SIGTERM from now on. Call it before printing "press Ctrl+C":
 * until the handler is installed a SIGINT kills the process (Node's default), and a terminal, a
 * script or a test that reacts to the line can send one before the next statement runs (seen: the
 * reader woken by the line's write ran first on the same core and killed us, about 1 run in 6).
 */
function listenForStop(): Promise<string> {
  return new Promise((resolve) => {
    // The handler stays: a second Ctrl+C while stopping must not kill the process half-way
    // through its shutdown (a terminal's Ctrl+C can arrive more than once).
    const handler = (signal: string) => resolve(signal);
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}

function reportRuns(runtime: HourglassRuntime, log: (line: string) => void): void {
  runtime.events.on("export:written", (e) =>
    log(
      `${e.dagId} ${e.runId}: wrote ${e.bucket}/${e.key} (${e.rows.toLocaleString("en-US")} rows, ${e.bytes.toLocaleString("en-US")} bytes)`,
    ),
  );
  runtime.events.on("task:failed", (e) =>
    log(`${e.dagId} ${e.runId} ${e.taskId} try ${e.tryNumber} failed: ${e.error}`),
  );
  runtime.events.on("run:finished", (e) => {
    if (e.state !== "success") log(`${e.run.dagId} ${e.run.runId} finished ${e.state}`);
  });
}

export function registerUp(program: Command): void {
  demoFlags(
    program
      .command("up")
      .description("start Hourglass: store, stream, lake, scheduler, workers and the HTTP API, until Ctrl+C")
      .option(
        "--demo",
        "run the seed's pipeline: tables, 24 h of history, real-time load, the hourly export DAG",
      )
      .option("--port <n>", "HTTP port (0 picks a free one; default 8080)", positiveInt)
      .option("--host <host>", "HTTP address to listen on (default 127.0.0.1)")
      .option("--workers <n>", "worker processes running tasks (default 2)", positiveInt)
      .option("--dags <dir>", "the DAG folder (default ./dags)")
      .option("--no-realtime", "with --demo: do not keep generating in real time")
      .option(
        "--no-auth",
        "accept any credentials on the AWS endpoints and S3 (no SigV4 check; also `auth: false` in hourglass.yaml or HOURGLASS_AUTH=false)",
      ),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  hourglass up --demo          # what `npm start` runs\n  hourglass up --port 9000 --dags ./my-dags",
    )
    .action(async (o: UpOptions, cmd: Command) => {
      const { resolveConfig, startHourglass, startDemo, DEMO_BUCKET, DEMO_DAG } = await serverModules();
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const config = resolveConfig({
        flags: {
          stateDir: globals.stateDir,
          config: globals.config,
          port: o.port,
          host: o.host,
          workers: o.workers,
          dagsDir: o.dags,
          ...(o.auth === false ? { auth: false } : {}),
        },
      });
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const running = readServerInfo(config.stateDir);
      if (running) {
        throw new HourglassError(
          "Conflict",
          `Hourglass already runs for ${config.stateDir} at ${running.url} (pid ${running.pid}): stop it first, or use another --state-dir`,
        );
      }
      fs.mkdirSync(config.dagsDir, { recursive: true });
      const { createAccessKey, keysFilePath, listAccessKeys } = await import("../access/index.js");
      const firstStart = config.auth && !fs.existsSync(keysFilePath(config.stateDir));
      const runtime = await startHourglass(config, { dagsDirs: o.demo ? [EXAMPLE_DAGS] : [] });
      reportRuns(runtime, log);
      log(`hourglass is up: API ${runtime.url} (docs/api.md), state ${config.stateDir}`);
      log(`web UI: ${runtime.url}/ (docs/ui.md)`);
      if (!config.auth) {
        log(
          "WARNING: --no-auth: the AWS endpoints and S3 accept any credentials, signatures are not checked; anyone who can reach the port can read and write through them",
        );
      } else if (firstStart) {
        // The first start makes the first key, so that AWS clients work at once; later starts
        // never print a secret (`hourglass keys create` makes more).
        const key = createAccessKey(config.stateDir, "created by the first start");
        log(
          `first start: created an access key for AWS clients (SigV4), in ${keysFilePath(config.stateDir)}`,
        );
        for (const line of usageLines(key, runtime.url)) log(line);
        log("more keys: hourglass keys create; list and revoke: hourglass keys list|revoke");
      } else if (!listAccessKeys(config.stateDir).some((key) => key.revokedAt === undefined)) {
        log(
          `no active access key in ${keysFilePath(config.stateDir)}: AWS clients are refused until \`hourglass keys create\` makes one`,
        );
      }
      if (!isLoopback(config.host)) {
        log(
          `WARNING: listening on ${config.host}, beyond this machine: anyone who can reach it can read and change everything through the REST API (it has no sign-in; only the AWS endpoints check keys), over plain HTTP. Bind 127.0.0.1 unless this network is yours alone.`,
        );
      }
      for (const c of await runtime.connectors.list()) {
        log(
          `connector ${c.name}: ${c.stream} -> ${c.database}.${c.table} ${c.state}${c.reason ? ` (${c.reason})` : ""}`,
        );
      }
      let demo: Demo | null = null;
      try {
        if (o.demo) {
          demo = await startDemo(runtime, Date.now, {
            fillHours: o.fillHours,
            fillStepSeconds: o.fillStep,
            hostScale: o.hostScale,
            realtime: o.realtime,
            startProgress: (work) => createProgress({ ...work, output: process.stderr }),
          });
          log(`hourly CSV files: ${path.join(config.lakeDir, DEMO_BUCKET)}`);
          log(
            `try: npx hourglass runs list --dag ${DEMO_DAG}    npx hourglass query 'SELECT count(*) FROM "airflow-db"."airflow-table"'`,
          );
        }
        const stopRequested = listenForStop();
        log("press Ctrl+C to stop");
        const signal = await stopRequested;
        log(
          `${signal}: stopping (running tasks get up to 30 s to finish, the rest are retried on the next start)`,
        );
      } finally {
        await demo?.stop();
        await runtime.stop();
      }
      log("stopped");
    });

  demoFlags(
    program
      .command("demo")
      .description(
        "run the seed's pipeline once in simulated time (2021-09-22, like the seed) and print a summary",
      )
      .requiredOption("--once", "run to completion and exit (the only mode)")
      .option("--keep", "keep the state folder afterwards (printed at the end)")
      .option("--workers <n>", "worker processes running tasks (default 2)", positiveInt),
  )
    .addHelpText("after", "\nExample:\n  hourglass demo --once --fill-step 60s")
    .action(async (o: UpOptions & { keep?: boolean }, cmd: Command) => {
      const { resolveConfig, startHourglass, startDemo, deliverLateLoops, DEMO_BUCKET, DEMO_DAG } =
        await serverModules();
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const stateDir = globals.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-demo-"));
      const config = resolveConfig({
        flags: { stateDir, port: 0, workers: o.workers, dagsDir: path.join(stateDir, "dags") },
      });
      fs.mkdirSync(config.dagsDir, { recursive: true });
      // Simulated time: the seed's day, moving at the speed of the real clock.
      const simulatedStartMs = Date.UTC(2021, 8, 23, 0, 0, 0);
      const realStartMs = Date.now();
      // Simulated time may jump ahead (late data settling): skippedMs.
      let skippedMs = 0;
      const clockMs = () => simulatedStartMs + (Date.now() - realStartMs) + skippedMs;
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const runtime = await startHourglass(config, {
        clockMs,
        dagsDirs: [EXAMPLE_DAGS],
        writeServerInfo: false,
      });
      reportRuns(runtime, log);
      try {
        const demo = await startDemo(runtime, clockMs, {
          fillHours: o.fillHours,
          fillStepSeconds: o.fillStep,
          hostScale: o.hostScale,
          realtime: false,
          startProgress: (work) => createProgress({ ...work, output: process.stderr }),
        });
        // Catchup: every hourly interval since the start date (yesterday's midnight), 24 of them.
        const expected = 24;
        const deadline = Date.now() + 15 * 60_000;
        for (;;) {
          const runs = await runtime.metadata.listRuns({ dagId: DEMO_DAG });
          const finished = runs.filter((r) => r.state === "success" || r.state === "failed");
          if (runs.length >= expected && finished.length === runs.length) break;
          if (Date.now() > deadline)
            throw new Error(
              `catchup did not finish in 15 minutes (${finished.length} of ${runs.length} runs)`,
            );
          await runtime.events.waitFor("run:finished", () => true, 5_000).catch(() => undefined);
        }
        // Late data: a few percent of loops arrive 10 minutes late, after their hours were
        // exported; simulated time moves past the DAG's settle (15 minutes), and the scheduler
        // re-exports those hours on its own.
        const late = await deliverLateLoops(runtime, {
          fromS: Math.floor(simulatedStartMs / 1000) - o.fillHours * 3600,
          toS: Math.floor(simulatedStartMs / 1000),
          stepSeconds: o.fillStep,
          percentLate: 3,
          lateSeconds: 600,
          hostScale: o.hostScale,
        });
        skippedMs += 16 * 60_000;
        await runtime.scheduler.tick({ fullPass: true });
        for (;;) {
          const open = await runtime.metadata.listRuns({ dagId: DEMO_DAG, states: ["queued", "running"] });
          if (open.length === 0) break;
          if (Date.now() > deadline)
            throw new Error(`re-exports did not finish in 15 minutes (${open.length} open)`);
          await runtime.events.waitFor("run:finished", () => true, 5_000).catch(() => undefined);
        }
        const reexported = await runtime.metadata.listRuns({ dagId: DEMO_DAG, runTypes: ["reexport"] });
        await demo.stop();
        const runs = await runtime.metadata.listRuns({ dagId: DEMO_DAG, order: "asc" });
        const listing = await runtime.lake.listObjects(DEMO_BUCKET, { maxKeys: 1000 });
        const files = listing.objects.filter((object) => object.key.endsWith("my_file.csv"));
        const bytes = files.reduce((sum, f) => sum + f.size, 0);
        const elapsed = (Date.now() - realStartMs) / 1000;
        const byState = new Map<string, number>();
        for (const run of runs) byState.set(run.state, (byState.get(run.state) ?? 0) + 1);
        console.log(
          `demo finished in ${elapsed.toFixed(1)} s (simulated now: ${new Date(clockMs()).toISOString()})`,
        );
        console.log(
          `  history: ${demo.filledRecords.toLocaleString("en-US")} records in airflow-db.airflow-table`,
        );
        console.log(
          `  runs of ${DEMO_DAG}: ${runs.length} (${[...byState].map(([s, n]) => `${n} ${s}`).join(", ")})`,
        );
        console.log(
          `  files: ${files.length} in ${path.join(config.lakeDir, DEMO_BUCKET)} (${bytes.toLocaleString("en-US")} bytes)`,
        );
        for (const f of files.slice(0, 3)) console.log(`    ${f.key}`);
        if (files.length > 3) console.log(`    … ${files[files.length - 1]!.key}`);
        console.log(
          `  late data: ${late.loops} loop(s) (${late.records.toLocaleString("en-US")} records) arrived 10 minutes late in ${late.hours} hour(s) after their export; re-exported because of it: ${reexported.length} hour(s) (runs of type reexport)`,
        );
        if (byState.get("failed")) process.exitCode = 1;
      } finally {
        await runtime.stop();
        if (!o.keep && !globals.stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
        else console.log(`  state folder: ${stateDir}`);
      }
    });
}

/** Whether an address to listen on keeps the server to this machine. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
