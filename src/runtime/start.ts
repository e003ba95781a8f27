/**
 * The runtime that hosts everything `hourglass up` runs in one process: the store, the stream
 * service, the lake, the metadata DB, the HTTP server (REST, AWS-compatible endpoints, exports,
 * workflows), the managed connectors (`runtime.connectors`), the scheduler and the worker pool.
 * `hourglass up --demo` adds the load generator on top, with `runtime.store` and `runtime.streams`.
 */
import path from "node:path";
import { KeyRing } from "../access/index.js";
import { createApp, startHttpServer } from "../api/index.js";
import { acquireServerLock, removeServerInfo, writeServerInfo } from "../api/remote.js";
import { type HourglassConfig, queryLimitsOf } from "../config.js";
import { type Lake, openLocalLake } from "../lake/index.js";
import { createExportService } from "../operators/index.js";
import { ownEntry } from "../own-code.js";
import { TimestreamStore } from "../store/index.js";
import { type ConnectorManager, openConnectorManager } from "../stream/connector/index.js";
import { openStreamService, type StreamService } from "../stream/index.js";
import { ChangeCounter, uiApiRoutes, uiRoutes } from "../ui/index.js";
import { type MetadataStore, openMetadata } from "../workflows/metadata/index.js";
import { Scheduler, WorkerPool, WorkflowEvents, WorkflowService } from "../workflows/scheduler/index.js";
import { taskEnvironment, writeCliShim } from "./cli-shim.js";

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
  /** Receives failures inside the loops (default: a line on stderr). */
  onError?: (where: string, error: unknown) => void;
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
  const onError =
    options.onError ??
    ((where: string, error: unknown) =>
      process.stderr.write(
        `hourglass: ${where}: ${error instanceof Error ? error.message : String(error)}\n`,
      ));
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => onError("stopping", error));
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
      onError: (name, error) => onError(`connector ${name}`, error),
    });
    closers.push(() => connectors.close());
    const metadata = await openMetadata({ url: config.metadataUrl });
    closers.push(() => metadata.close());

    const events = new WorkflowEvents();
    events.on("error", ({ where, error }) => onError(where, error));
    const scheduler = new Scheduler({
      metadata,
      dagsDirs: [config.dagsDir, ...(options.dagsDirs ?? [])],
      clockMs,
      events,
      tickMs: options.tickMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      unpauseOnLoad: options.unpauseOnLoad,
      dagIds: options.dagIds,
      retention: store,
      parse: { importTimeoutMs: config.dagImportTimeoutMs, memoryLimitMb: config.dagParseMemoryMb },
    });
    const workflows = new WorkflowService({ scheduler, logsDir: path.join(config.stateDir, "logs") });

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
      guards: { allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins },
      workflows: changes.counting(workflows),
      connectors,
      exports: createExportService({ store, lake, clockMs }),
      // The web UI at / and the data its pages need (docs/ui.md).
      mounts: [
        { path: "/api/v1", routes: uiApiRoutes({ metadata, workflows, changes }) },
        { path: "/", routes: uiRoutes() },
      ],
    });
    const http = await startHttpServer(app, { host: config.host, port: config.port });
    closers.push(() => http.close());
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
