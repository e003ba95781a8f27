/**
 * The workflow calls in-process, on the state folder, for CLI commands run while no server is
 * running: the metadata DB and the DAG folder are opened, nothing is scheduled.
 */
import path from "node:path";
import type { HourglassConfig } from "../config.js";
import { FreshnessService, type FreshnessStore } from "../freshness/index.js";
import { openMetadata } from "../workflows/metadata/index.js";
import { scheduledQueryDagsDir } from "../workflows/scheduled-queries/index.js";
import { type RetentionSource, Scheduler, WorkflowService } from "../workflows/scheduler/index.js";

export interface LocalWorkflows {
  api: WorkflowService;
  /** Its DAGs and metadata (for the freshness service); it schedules nothing. */
  scheduler: Scheduler;
  close(): Promise<void>;
}

export async function openLocalWorkflows(
  config: HourglassConfig,
  options: { dagsDirs?: string[]; retention?: RetentionSource; freshness?: FreshnessStore } = {},
): Promise<LocalWorkflows> {
  const metadata = await openMetadata({ url: config.metadataUrl });
  try {
    let freshness: FreshnessService | undefined;
    const scheduler = new Scheduler({
      metadata,
      // The scheduled queries' generated DAGs too: a folder left out would mark its DAGs inactive.
      dagsDirs: [config.dagsDir, ...(options.dagsDirs ?? []), scheduledQueryDagsDir(config.stateDir)],
      watch: false,
      tickMs: 0,
      ...(options.retention === undefined ? {} : { retention: options.retention }),
      ...(options.freshness === undefined
        ? {}
        : { freshness: { staleIntervals: (dagId, from, to) => freshness!.staleIntervals(dagId, from, to) } }),
    });
    if (options.freshness !== undefined)
      freshness = new FreshnessService({ store: options.freshness, workflows: scheduler });
    // Loading the folders also records their DAGs and import errors, as a running scheduler would.
    await scheduler.bag.start();
    return {
      api: new WorkflowService({ scheduler, logsDir: path.join(config.stateDir, "logs") }),
      scheduler,
      close: () => metadata.close(),
    };
  } catch (error) {
    await metadata.close();
    throw error;
  }
}
