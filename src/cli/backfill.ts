/**
 * `hourglass backfill …`: create (with a progress bar until done, or --no-wait; --dry-run lists
 * the intervals and retention warnings), list, show, pause, resume, cancel.
 *
 * With a server running, the server runs the backfill. Without one, `create` runs the scheduler
 * and workers in this process, for this DAG only, until the backfill is done (Ctrl-C stops it;
 * `hourglass up` carries on with it later).
 */
import { type Command, InvalidArgumentError } from "commander";
import { HttpClient } from "../api/remote.js";
import type { HourglassConfig } from "../config.js";
// The module itself, not runtime/index.js: the client side alone, without the scheduler (see main.ts).
import { RemoteWorkflows } from "../runtime/remote.js";
import type { BackfillProgress } from "../workflows/metadata/index.js";
import type {
  BackfillCreated,
  BackfillReprocess,
  BackfillRequest,
  BackfillView,
  WorkflowApi,
} from "../workflows/scheduler/index.js";
import { configFrom, serverUrl } from "./context.js";
import { example, jsonObject, withWorkflows } from "./dags.js";
import { printJson, renderTable } from "./output.js";
import { createProgress } from "./progress.js";

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return n;
};
const reprocessChoice = (value: string): BackfillReprocess => {
  if (value === "none" || value === "failed" || value === "all" || value === "stale") return value;
  throw new InvalidArgumentError(`'${value}' must be none, failed, all or stale`);
};

const finishedStates = new Set(["completed", "cancelled", "failed"]);
const pollIntervalMs = 500;

interface CreateFlags {
  from: string;
  to: string;
  reprocess?: BackfillReprocess;
  maxActiveRuns?: number;
  conf?: Record<string, unknown>;
  dryRun?: boolean;
  wait: boolean;
  json?: boolean;
}

export function registerBackfill(program: Command): void {
  const backfill = program
    .command("backfill")
    .description("backfills: run a DAG over past intervals (create, list, show, pause, resume, cancel)");

  backfill
    .command("create <dag>")
    .description(
      "backfill a DAG: one run per interval whose start lies in [--from, --to], both included (a date alone is midnight in the DAG's zone)",
    )
    .requiredOption("--from <date>", "first interval start, e.g. 2021-09-21")
    .requiredOption("--to <date>", "last interval start, included, e.g. 2021-09-22")
    .option(
      "--reprocess <what>",
      "intervals that already have a run: none (default), failed, all; stale: only the intervals whose export is stale (see `hourglass exports status`), re-run",
      reprocessChoice,
    )
    .option("--max-active-runs <n>", "runs at once (default: the DAG's maxActiveRuns)", positive)
    .option("--conf <json>", "conf for every run, checked against the DAG's params", jsonObject)
    .option("--dry-run", "list the intervals and retention warnings; create nothing")
    .option("--no-wait", "return once created, without a progress bar")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      example("hourglass backfill create timestream-airflow-demo --from 2021-09-21 --to 2021-09-22"),
    )
    .action(async (dagId: string, o: CreateFlags, cmd: Command) => {
      const config = await configFrom(cmd);
      const request: BackfillRequest = {
        dagId,
        from: o.from,
        to: o.to,
        ...(o.reprocess === undefined ? {} : { reprocess: o.reprocess }),
        ...(o.maxActiveRuns === undefined ? {} : { maxActiveRuns: o.maxActiveRuns }),
        ...(o.conf === undefined ? {} : { conf: o.conf }),
        dryRun: o.dryRun === true,
      };
      const url = serverUrl(cmd, config);
      if (url) {
        const api = new RemoteWorkflows(new HttpClient(url));
        const created = await api.createBackfill(request);
        report(created, o.json === true);
        if (created.backfill !== undefined && o.wait)
          process.exitCode = await waitRemote(api, created.backfill);
      } else if (o.dryRun || !o.wait) {
        await createLocally(config, request, o.json === true);
      } else {
        process.exitCode = await runInProcess(config, request, o.json === true);
      }
    });

  backfill
    .command("list")
    .description("list backfills")
    .option("--dag <dag>", "only this DAG's")
    .option("--json", "print JSON")
    .addHelpText("after", example("hourglass backfill list --dag timestream-airflow-demo"))
    .action(async (o: { dag?: string; json?: boolean }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const list = await api.listBackfills(o.dag === undefined ? {} : { dagId: o.dag });
        if (o.json) return printJson(list);
        console.log(
          renderTable(
            ["id", "dag_id", "from", "to", "state", "runs", "reprocess", "max active"],
            list.map((b) => [
              String(b.id),
              b.dagId,
              b.from,
              b.to,
              b.state,
              String(b.total),
              b.reprocess,
              String(b.maxActiveRuns),
            ]),
          ),
        );
      });
    });

  const byId = (
    name: string,
    description: string,
    call: (api: WorkflowApi, id: number) => Promise<BackfillView>,
  ) =>
    backfill
      .command(`${name} <id>`)
      .description(description)
      .option("--json", "print JSON")
      .addHelpText("after", example(`hourglass backfill ${name} 1`))
      .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
        await withWorkflows(cmd, async (api) => {
          const view = await call(api, positive(id));
          if (o.json) return printJson(view);
          console.log(describe(view));
        });
      });
  byId("show", "show a backfill and its progress", (api, id) => api.getBackfill(id));
  byId("pause", "pause a backfill: its running runs finish, no new ones start", (api, id) =>
    api.pauseBackfill(id),
  );
  byId("resume", "resume a paused backfill", (api, id) => api.resumeBackfill(id));
  byId("cancel", "cancel a backfill: runs not started yet fail, running ones finish", (api, id) =>
    api.cancelBackfill(id),
  );
}

function describe(view: BackfillView): string {
  const p = view.progress;
  const counts =
    p === undefined
      ? ""
      : `: ${p.done}/${p.total} done (succeeded ${p.succeeded}, failed ${p.failed}, skipped ${p.skipped}, running ${p.running}, queued ${p.queued})`;
  return `backfill ${view.id} of ${view.dagId} [${view.from} .. ${view.to}) is ${view.state}${counts}`;
}

function report(created: BackfillCreated, json: boolean): void {
  if (json) {
    printJson(created);
    return;
  }
  const { plan } = created;
  for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (created.backfill === undefined) {
    console.log(`dry run: ${plan.intervals.length} run(s) of ${plan.dagId}`);
    for (const interval of plan.intervals)
      console.log(`  ${interval.runId}  [${interval.start}, ${interval.end})`);
    return;
  }
  const skipped = created.results?.filter((r) => r.disposition === "skipped") ?? [];
  console.log(
    `backfill ${created.backfill.id} of ${plan.dagId}: ${plan.intervals.length} interval(s), ${skipped.length} skipped`,
  );
  for (const result of skipped) console.log(`  skipped ${result.start}: ${result.reason ?? ""}`);
}

async function waitRemote(api: WorkflowApi, backfill: BackfillView): Promise<number> {
  const progress = createProgress({
    label: `backfill ${backfill.id} of ${backfill.dagId}`,
    total: backfill.total,
    unit: "runs",
  });
  for (;;) {
    const view = await api.getBackfill(backfill.id);
    if (view.progress !== undefined) progress.update(view.progress.done);
    if (finishedStates.has(view.state)) {
      progress.done();
      console.log(describe(view));
      return (view.progress?.failed ?? 0) > 0 ? 1 : 0;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

/** Dry runs and --no-wait without a server: plan or record the backfill; `hourglass up` runs it. */
async function createLocally(
  config: HourglassConfig,
  request: BackfillRequest,
  json: boolean,
): Promise<void> {
  const [{ TimestreamStore }, { openLocalWorkflows }] = await Promise.all([
    import("../store/index.js"),
    import("../runtime/index.js"),
  ]);
  const store = await TimestreamStore.open({ dir: config.stateDir, sweepIntervalMs: 0 });
  try {
    const local = await openLocalWorkflows(config, { retention: store, freshness: store });
    try {
      report(await local.api.createBackfill(request), json);
      if (!request.dryRun && !json) console.log("no server is running: it runs when `hourglass up` starts");
    } finally {
      await local.close();
    }
  } finally {
    await store.close();
  }
}

/** Runs the scheduler and workers here, for this DAG, until the backfill ends. */
async function runInProcess(
  config: HourglassConfig,
  request: BackfillRequest,
  json: boolean,
): Promise<number> {
  const { startHourglass } = await import("../runtime/index.js");
  const runtime = await startHourglass({ ...config, port: 0 }, { dagIds: [request.dagId] });
  let interrupted!: () => void;
  const stopped = new Promise<null>((resolve) => {
    interrupted = () => resolve(null);
  });
  const stop = () => {
    process.stderr.write("\nstopping: the backfill goes on when `hourglass up` starts\n");
    interrupted();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const created = await runtime.workflows.createBackfill(request);
    report(created, json);
    const backfill = created.backfill!;
    const progress = createProgress({
      label: `backfill ${backfill.id} of ${backfill.dagId}`,
      total: backfill.total,
      unit: "runs",
    });
    let off = () => {};
    const finished = new Promise<BackfillProgress>((resolve) => {
      off = runtime.events.on("backfill:progress", ({ progress: p }) => {
        if (p.backfillId !== backfill.id) return;
        progress.update(p.done);
        if (finishedStates.has(p.state)) resolve(p);
      });
      runtime.scheduler.wake();
    });
    const last = await Promise.race([finished, stopped]);
    off();
    if (last === null) return 130;
    progress.done();
    console.log(describe({ ...(await runtime.workflows.getBackfill(backfill.id)), progress: last }));
    return last.failed > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await runtime.stop();
  }
}
