/**
 * The runtime that hosts everything `hourglass up` runs in one process: the store, the stream
 * service, the lake, the metadata DB, the HTTP server (REST, AWS-compatible endpoints, exports,
 * workflows), the managed connectors (`runtime.connectors`), the scheduler and the worker pool.
 * `hourglass up --demo` adds the load generator on top, with `runtime.store` and `runtime.streams`.
 */
import path from "node:path";
import { KeyRing } from "../access/index.js";
import { createApp, freshnessRoutes, scheduledQueryRoutes, startHttpServer } from "../api/index.js";
import { acquireServerLock, removeServerInfo, writeServerInfo } from "../api/remote.js";
import { type HourglassConfig, queryLimitsOf } from "../config.js";
import { FreshnessService } from "../freshness/index.js";
import { type Lake, openLocalLake } from "../lake/index.js";
import { type Log, openServerLog } from "../log/index.js";
import { createExportService } from "../operators/index.js";
import { ownEntry } from "../own-code.js";
import { TimestreamStore } from "../store/index.js";
import { type ConnectorManager, openConnectorManager } from "../stream/connector/index.js";
import { openStreamService, type StreamService } from "../stream/index.js";
import { ChangeCounter, uiApiRoutes, uiRoutes } from "../ui/index.js";
import { type MetadataStore, openMetadata } from "../workflows/metadata/index.js";
import { ScheduledQueryService } from "../workflows/scheduled-queries/index.js";
import { Scheduler, WorkerPool, WorkflowEvents, WorkflowService } from "../workflows/scheduler/index.js";
import { taskEnvironment, writeCliShim } from "./cli-shim.js";
import { logWorkflowEvents } from "./log-events.js";

export interface StartOptions {
  /** The clock of the store, the scheduler and the metadata DB (tests move it). Default Date.now. */
  clockMs?: () => number;
  /** Run the scheduler loop (default true). Without it DAGs are still loaded, for the API. */
  scheduler?: boolean;
  /** Worker processes; default config.workers; 0: none (another process runs tasks). */
  workers?: number;
  /** Real time between scheduler ticks (default 1000 ms). */
  tickMs?: number;
  /** DAG folders besides config.dagsDir (e.g. examples/dags). */
  dagsDirs?: string[];
  /** DAG ids that start unpaused when first seen (the demo). */
  unpauseOnLoad?: string[];
  /** Only schedule these DAGs. */
  dagIds?: string[];
  /** A running try whose worker has not heartbeaten for this long is run again (default 30 s). */
  heartbeatTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long stop() lets running tasks finish (default 30 s). */
  stopGraceMs?: number;
  /** How long a stopped task may take before its worker process is killed (default 3 s). */
  killGraceMs?: number;
  /** Leave server.json for the CLI (default true). */
  writeServerInfo?: boolean;
  /**
   * The process log (default: `<stateDir>/logs/server.log` at config.logLevel, warnings and errors
   * on stderr too; docs/operations.md, "Logs").
   */
  log?: Log;
}

export interface HourglassRuntime {
  readonly config: HourglassConfig;
  readonly store: TimestreamStore;
  readonly streams: StreamService;
  /** The connectors of `<stateDir>/connectors.json` (docs/connector.md, "Managed connectors"). */
  readonly connectors: ConnectorManager;
  readonly lake: Lake;
  readonly metadata: MetadataStore;
  readonly scheduler: Scheduler;
  /** Null when started with workers: 0. */
  readonly workerPool: WorkerPool | null;
  readonly workflows: WorkflowService;
  readonly events: WorkflowEvents;
  /** The keys AWS clients sign with (`<stateDir>/keys.json`); null when config.auth is false. */
  readonly keys: KeyRing | null;
  /** Which exported intervals are fresh or stale (docs/freshness.md). */
  readonly freshness: FreshnessService;
  /** The process log every part of the runtime writes to. */
  readonly log: Log;

  /** Timestream scheduled queries (docs/workflows.md, "Timestream scheduled queries"). */
  readonly scheduledQueries: ScheduledQueryService;
  /** The HTTP server's address, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** The HTTP app it serves: its `routes` are what the OpenAPI document and its test walk. */
  readonly app: ReturnType<typeof createApp>;
  /** Stops taking work, lets running tasks finish (up to stopGraceMs), closes everything. Idempotent. */
  stop(): Promise<void>;
}

export async function startHourglass(
  config: HourglassConfig,
  options: StartOptions = {},
): Promise<HourglassRuntime> {
  const clockMs = options.clockMs ?? Date.now;
  const closers: Array<() => Promise<void>> = [];
  let log: Log;
  if (options.log) log = options.log;
  else {
    const serverLog = openServerLog({ stateDir: config.stateDir, level: config.logLevel });
    log = serverLog.log;
    // Pushed first, so closed last: the other closers may still log.
    closers.push(async () => {
      log.info({}, "server stopped");
      serverLog.close();
    });
  }
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => log.error({ err: error }, "stopping failed"));
  };
  try {
    if (options.writeServerInfo !== false) {
      // First: a second server on the same folder is refused before it touches anything.
      const serverLock = await acquireServerLock(config.stateDir);
      closers.push(() => serverLock.release());
    }
    const lake = openLocalLake(config.lakeDir);
    const store = await TimestreamStore.open({
      dir: config.stateDir,
      clockMs,
      limits: queryLimitsOf(config),
      lake,
    });
    closers.push(() => store.close());
    const streams = await openStreamService({ dir: config.stateDir, clock: clockMs });
    closers.push(() => streams.close());
    // Started with the store and the stream, stopped before them (closers run in reverse): each
    // connector writes and checkpoints its batch in hand first.
    const connectors = await openConnectorManager({
      streams,
      store,
      stateDir: config.stateDir,
      clock: clockMs,
      log: log.child({ part: "connector" }),
    });
    closers.push(() => connectors.close());
    const metadata = await openMetadata({ url: config.metadataUrl });
    closers.push(() => metadata.close());

    // Timestream scheduled queries run as generated DAG files in a folder of the state folder.
    const scheduledQueries = new ScheduledQueryService({ stateDir: config.stateDir, store, lake, clockMs });
    const events = new WorkflowEvents();
    // What DAG files print while they are imported (and the parse process's own failures).
    const dagProcessorLog = log.child({ part: "dag-processor" });
    logWorkflowEvents(events, log.child({ part: "scheduler" }));
    // The freshness service reads the scheduler's DAGs, and the scheduler asks it for stale intervals.
    let freshness: FreshnessService | undefined;
    const scheduler = new Scheduler({
      freshness: {
        staleIntervals: (dagId, from, to) => freshness!.staleIntervals(dagId, from, to),
        settledLateData: (dagId, settleMs, withinMs) => freshness!.settledLateData(dagId, settleMs, withinMs),
      },
      metadata,
      dagsDirs: [config.dagsDir, ...(options.dagsDirs ?? []), scheduledQueries.dagsDir],
      clockMs,
      events,
      tickMs: options.tickMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      unpauseOnLoad: options.unpauseOnLoad,
      dagIds: options.dagIds,
      retention: store,
      parse: {
        importTimeoutMs: config.dagImportTimeoutMs,
        memoryLimitMb: config.dagParseMemoryMb,
        onOutput: (line) => dagProcessorLog.info({}, line),
      },
    });
    freshness = new FreshnessService({ store, workflows: scheduler });
    const workflows = new WorkflowService({ scheduler, logsDir: path.join(config.stateDir, "logs") });
    scheduledQueries.attach({
      reloadDags: () => scheduler.bag.reload(),
      setPaused: async (dagId, paused) => {
        await workflows.setPaused(dagId, paused);
      },
    });

    // Signatures are checked unless the configuration says no (`--no-auth`); the key given to
    // task processes lives in this process only (docs/decisions.md, D12).
    const keys = config.auth ? new KeyRing(config.stateDir) : null;
    // Without checks, tasks still get keys to sign with: AWS SDKs refuse to call without any.
    const taskKey = keys?.addMemoryKey("hourglass tasks") ?? {
      accessKeyId: "HOURGLASSNOAUTH",
      secretAccessKey: "signatures-are-not-checked",
    };
    // Changes made through the API count for the UI's polling, as the scheduler's events do (docs/ui.md).
    const changes = new ChangeCounter().watch(events);
    const app = createApp({
      store,
      stream: streams,
      lake,
      lakeRest: true,
      keys,

      scheduledQueries,
      guards: { allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins },
      logger: log.child({ part: "api" }),
      workflows: changes.counting(workflows),
      connectors,
      exports: createExportService({ store, lake, clockMs }),
      mounts: [
        { path: "/api/v1", routes: freshnessRoutes(freshness) },
        { path: "/api/v1", routes: scheduledQueryRoutes(scheduledQueries) },
        // The web UI at / and the data its pages need (docs/ui.md).
        { path: "/api/v1", routes: uiApiRoutes({ metadata, workflows, changes }) },
        { path: "/", routes: uiRoutes() },
      ],
    });
    const http = await startHttpServer(app, { host: config.host, port: config.port });
    closers.push(() => http.close());
    log.info({ url: http.url, stateDir: config.stateDir }, "server listening");
    if (options.writeServerInfo !== false) {
      writeServerInfo(config.stateDir, {
        pid: process.pid,
        url: http.url,
        startedAt: new Date().toISOString(),
      });
      closers.push(async () => removeServerInfo(config.stateDir));
    }

    if (options.scheduler === false) {
      await scheduler.bag.start();
      closers.push(async () => scheduler.bag.close());
    } else {
      await scheduler.start();
      closers.push(() => scheduler.stop());
    }
    const size = options.workers ?? config.workers;
    let workerPool: WorkerPool | null = null;
    if (size > 0) {
      workerPool = new WorkerPool({
        metadata,
        events,
        clockMs,
        size,
        serverUrl: http.url,
        workerEntry: ownEntry("./worker-entry", import.meta.url),
        logsDir: path.join(config.stateDir, "logs"),
        findDag: (dagId) => scheduler.bag.get(dagId),
        allDags: () => scheduler.bag.all(),
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        killGraceMs: options.killGraceMs,
        // Tasks run `hourglass …` (the seed's backfill DAG): this server's CLI, talking to this server.
        env: taskEnvironment(config, http.url, writeCliShim(config.stateDir), process.env["PATH"], taskKey),
        importTimeoutMs: config.dagImportTimeoutMs,
        log: log.child({ part: "worker-pool" }),
        logLevel: config.logLevel,
      });
      // Stopped right after the scheduler (closers run in reverse): no new work is queued meanwhile.
      const pool = workerPool;
      closers.push(() => pool.stop(options.stopGraceMs));
      await pool.start();
    }

    let stopping: Promise<void> | null = null;
    return {
      config,
      store,
      streams,
      connectors,
      lake,
      metadata,
      scheduler,
      workerPool,
      workflows,
      events,
      keys,
      freshness,
      log,

      scheduledQueries,
      url: http.url,
      app,
      stop() {
        // The scheduler first: no run is created and no task queued while the pool drains.
        stopping ??= scheduler.stop().then(closeAll);
        return stopping;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
