/**
 * `hourglass exports status --dag D [--from --to] [--format table|json]`: each exported interval
 * of a DAG as fresh, stale by data (records that arrived after the export: how many, when), stale
 * by code (another code version than the DAG's current one: both shown), missing, failed or
 * running. Through the server when one runs, else on the state folder in this process.
 */
import { type Command, InvalidArgumentError } from "commander";
import { HttpClient } from "../api/remote.js";
// The store, the workflows and the freshness service load inside the action (main.ts: lazy commands).
import type { ExportsStatusRequest, ExportsStatusView } from "../freshness/index.js";
import { configFrom, serverUrl } from "./context.js";
import { example } from "./dags.js";
import { printJson, renderTable } from "./output.js";

const formatChoice = (value: string): "table" | "json" => {
  if (value === "table" || value === "json") return value;
  throw new InvalidArgumentError(`'${value}' must be table or json`);
};

export function registerExports(program: Command): void {
  const exports = program
    .command("exports")
    .description("exported intervals: which are fresh, stale, missing, failed");
  exports
    .command("status")
    .description(
      "each exported interval of a DAG: fresh, stale-data (records arrived after the export), stale-code (written by another code version), missing, failed, running",
    )
    .requiredOption("--dag <dag>", "the DAG whose exports to judge")
    .option("--from <date>", "first interval start (default: the DAG's start date)")
    .option("--to <date>", "last interval start, included (default: now)")
    .option("--format <format>", "table (default) or json", formatChoice, "table")
    .option("--all", "table: list fresh intervals too (by default only the others, and the counts)")
    .addHelpText(
      "after",
      `${example("hourglass exports status --dag timestream-airflow-demo --from 2021-09-22 --to 2021-09-22T23:00")}
Re-export the stale ones: hourglass backfill create <dag> --from … --to … --reprocess stale
`,
    )
    .action(
      async (
        o: { dag: string; from?: string; to?: string; format: "table" | "json"; all?: boolean },
        cmd: Command,
      ) => {
        const request: ExportsStatusRequest = {
          dagId: o.dag,
          ...(o.from === undefined ? {} : { from: o.from }),
          ...(o.to === undefined ? {} : { to: o.to }),
        };
        const view = await exportsStatus(cmd, request);
        if (o.format === "json") return printJson(view);
        printStatus(view, o.all === true);
      },
    );
}

async function exportsStatus(cmd: Command, request: ExportsStatusRequest): Promise<ExportsStatusView> {
  const config = await configFrom(cmd);
  const url = serverUrl(cmd, config);
  if (url) {
    const query = new URLSearchParams();
    if (request.from !== undefined) query.set("from", request.from);
    if (request.to !== undefined) query.set("to", request.to);
    const suffix = query.size === 0 ? "" : `?${query}`;
    return new HttpClient(url).call(
      "GET",
      `/api/v1/dags/${encodeURIComponent(request.dagId)}/exports/status${suffix}`,
    );
  }
  const [{ FreshnessService }, { openLocalWorkflows }, { TimestreamStore }] = await Promise.all([
    import("../freshness/index.js"),
    import("../runtime/index.js"),
    import("../store/index.js"),
  ]);
  const store = await TimestreamStore.open({ dir: config.stateDir, sweepIntervalMs: 0 });
  try {
    const local = await openLocalWorkflows(config);
    try {
      return await new FreshnessService({ store, workflows: local.scheduler }).exportsStatus(request);
    } finally {
      await local.close();
    }
  } finally {
    await store.close();
  }
}

function printStatus(view: ExportsStatusView, all: boolean): void {
  const shown = all ? view.intervals : view.intervals.filter((i) => i.status !== "fresh");
  if (shown.length > 0) {
    console.log(
      renderTable(
        ["interval start", "status", "run", "exported at", "detail"],
        shown.map((i) => [
          i.start,
          i.status,
          i.run === null ? "-" : `${i.run.runId} (${i.run.state})`,
          i.exports.map((e) => e.exportedAt).join(", ") || "-",
          detail(i),
        ]),
      ),
    );
  }
  const counts = Object.entries(view.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(", ");
  console.log(
    `${view.intervals.length} interval(s) of ${view.dagId} from ${view.from} to ${view.to} (code version ${view.codeVersion}): ${counts || "none"}`,
  );
}

function detail(entry: ExportsStatusView["intervals"][number]): string {
  if (entry.status === "stale-code" && entry.staleCode !== null)
    return `exported by code ${entry.staleCode.exported ?? "unknown"}, now ${entry.staleCode.current}`;
  if (entry.staleData !== null)
    return `${entry.staleData.records} record(s) arrived after the export, the last at ${entry.staleData.lastWriteAt}`;
  if (entry.status === "missing") return "no export recorded for this interval";
  return "";
}
