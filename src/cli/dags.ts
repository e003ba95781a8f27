/**
 * `hourglass dags …`: list, show, pause, unpause, trigger, test, errors. Over HTTP when a server
 * runs for the state folder, else in-process on it (`withWorkflows`, shared by runs, tasks and
 * backfill commands).
 */
import fs from "node:fs";
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { HttpClient } from "../api/remote.js";
import type { HourglassConfig } from "../config.js";
import { isHourglassError, validationError } from "../errors.js";
import type { TaskServices } from "../operators/index.js";
// The client's module itself, not runtime/index.js: commands that talk to a server load no scheduler.
// Everything that runs workflows here (the metadata DB, DAG loading, tasks) is imported when a
// command needs it, not for --help (see main.ts).
import { RemoteWorkflows } from "../runtime/remote.js";
import type { ImportError, LoadedDag } from "../workflows/index.js";
import type { WorkflowApi } from "../workflows/scheduler/index.js";
import { configFrom, serverUrl } from "./context.js";
import { printJson, renderTable } from "./output.js";

/** Runs `work` with the workflow calls: over HTTP when a server runs, else on the state folder. */
export async function withWorkflows<T>(
  command: Command,
  work: (api: WorkflowApi, where: { remote: boolean; config: HourglassConfig }) => Promise<T>,
): Promise<T> {
  const config = await configFrom(command);
  const url = serverUrl(command, config);
  if (url) return work(new RemoteWorkflows(new HttpClient(url)), { remote: true, config });
  const { openLocalWorkflows } = await import("../runtime/index.js");
  const local = await openLocalWorkflows(config);
  try {
    return await work(local.api, { remote: false, config });
  } finally {
    await local.close();
  }
}

/** A JSON object option (`--conf '{"table": "cpu"}'`). */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('it must be a JSON object, such as \'{"key": "value"}\'');
  }
  return parsed as Record<string, unknown>;
}

export const example = (text: string) => `\nExample:\n  $ ${text}\n`;

export function registerDags(program: Command): void {
  const dags = program
    .command("dags")
    .description("workflows (DAGs): list, show, pause, unpause, trigger, test, errors");

  dags
    .command("list")
    .description("list the DAGs with their schedule and state")
    .option("--json", "print JSON")
    .addHelpText("after", example("hourglass dags list"))
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const list = await api.listDags();
        if (o.json) return printJson(list);
        console.log(
          renderTable(
            ["dag_id", "schedule", "paused", "active", "next interval from", "file", "import error"],
            list.map((d) => [
              d.dagId,
              d.schedule ?? "None",
              String(d.isPaused),
              String(d.isActive),
              d.lastScheduledIntervalEnd ?? d.startDate ?? "",
              d.filePath,
              d.importError ?? "",
            ]),
          ),
        );
      });
    });

  dags
    .command("show <dag>")
    .description("show a DAG: its settings, tasks and params")
    .option("--json", "print JSON")
    .addHelpText("after", example("hourglass dags show timestream-airflow-demo"))
    .action(async (dagId: string, o: { json?: boolean }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const details = await api.getDag(dagId);
        if (o.json) return printJson(details);
        const { tasks, params, ...rest } = details;
        for (const [key, value] of Object.entries(rest))
          console.log(`${key}: ${value === null ? "" : String(value)}`);
        console.log("");
        console.log(
          renderTable(
            ["task", "kind", "upstream", "retries", "retry delay", "timeout"],
            tasks.map((t) => [
              t.taskId,
              t.kind,
              t.upstream.join(",") || "-",
              String(t.retries),
              `${t.retryDelayMs / 1000}s`,
              t.executionTimeoutMs === null ? "-" : `${t.executionTimeoutMs / 1000}s`,
            ]),
          ),
        );
        if (params !== null && params.length > 0) {
          console.log("");
          console.log(
            renderTable(
              ["param", "type", "default", "description"],
              params.map((p) => [
                p.name,
                p.type,
                p.default === undefined ? "(required)" : JSON.stringify(p.default),
                p.description ?? "",
              ]),
            ),
          );
        }
      });
    });

  for (const [name, paused] of [
    ["pause", true],
    ["unpause", false],
  ] as const) {
    dags
      .command(`${name} <dag>`)
      .description(
        paused
          ? "pause a DAG: no new runs, no new tasks (running ones finish)"
          : "unpause a DAG: with catchup, every missed interval since its start date runs",
      )
      .addHelpText("after", example(`hourglass dags ${name} timestream-airflow-demo`))
      .action(async (dagId: string, _o: unknown, cmd: Command) => {
        await withWorkflows(cmd, async (api) => {
          const dag = await api.setPaused(dagId, paused);
          console.log(`${dag.dagId} is ${dag.isPaused ? "paused" : "unpaused"}`);
        });
      });
  }

  dags
    .command("trigger <dag>")
    .description("start a manual run (of the latest complete interval, or of --logical-date)")
    .option("--conf <json>", "the run's conf, checked against the DAG's params", jsonObject)
    .option("--logical-date <date>", "run the interval that starts at or contains this date")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      example(
        `hourglass dags trigger timestream-airflow-demo --logical-date 2021-09-22T13:00:00Z --conf '{"note": "rerun"}'`,
      ),
    )
    .action(
      async (
        dagId: string,
        o: { conf?: Record<string, unknown>; logicalDate?: string; json?: boolean },
        cmd: Command,
      ) => {
        await withWorkflows(cmd, async (api, where) => {
          const run = await api.trigger(dagId, {
            ...(o.conf === undefined ? {} : { conf: o.conf }),
            ...(o.logicalDate === undefined ? {} : { logicalDate: o.logicalDate }),
          });
          if (o.json) return printJson(run);
          console.log(`created ${run.runId} for [${run.dataIntervalStart}, ${run.dataIntervalEnd})`);
          // As in Airflow, a run of a paused DAG is queued until the DAG is unpaused: say so.
          if ((await api.getDag(dagId)).isPaused) {
            console.error(`note: ${dagId} is paused, so the run waits: hourglass dags unpause ${dagId}`);
          }
          if (!where.remote) console.log("no server is running: the run starts when `hourglass up` does");
        });
      },
    );

  dags
    .command("errors")
    .description("list DAG files that failed to load, with file and line")
    .option("--json", "print JSON")
    .addHelpText("after", example("hourglass dags errors"))
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const errors = await api.importErrors();
        if (o.json) return printJson(errors);
        if (errors.length === 0) return console.log("no import errors");
        for (const e of errors)
          console.log(
            `${e.file}${e.line === null ? "" : `:${e.line}${e.column === null ? "" : `:${e.column}`}`}: ${e.message}`,
          );
      });
    });

  dags
    .command("test <dag> [logical-date]")
    .description(
      "run a DAG's tasks (or one, --task) for one logical date, here and now, recording no state (like `airflow dags test`)",
    )
    .option("--task <task>", "run only this task")
    .option("--conf <json>", "the run's conf", jsonObject)
    .option(
      "--dags <dir>",
      "the DAG folder to load it from (repeat for more); default: the file the running server loaded it from, else the configured folder (./dags, HOURGLASS_DAGS_DIR, dagsDir in hourglass.yaml)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText(
      "after",
      example("hourglass dags test timestream-airflow-demo 2021-09-22T13:00:00Z --task ts_query"),
    )
    .action(
      async (
        dagId: string,
        date: string | undefined,
        o: { task?: string; conf?: Record<string, unknown>; dags?: string[] },
        cmd: Command,
      ) => {
        const config = await configFrom(cmd);
        process.exitCode = await testDag(config, serverUrl(cmd, config), dagId, date, o);
      },
    );
}

/** `dags test`: the tasks in dependency order; the first failure stops the run. Returns the exit code. */
async function testDag(
  config: HourglassConfig,
  url: string | null,
  dagId: string,
  date: string | undefined,
  o: { task?: string; conf?: Record<string, unknown>; dags?: string[] },
): Promise<number> {
  const [
    { openLocalLake },
    { runOperator },
    { createLocalTaskServices, createRemoteTaskServices, taskEnvironment, writeCliShim },
    { TimestreamStore },
    { inferManualInterval, intervalForLogicalDate, parseDateInZone, runIdFor },
    { runTask },
  ] = await Promise.all([
    import("../lake/index.js"),
    import("../operators/index.js"),
    import("../runtime/index.js"),
    import("../store/index.js"),
    import("../workflows/index.js"),
    import("../workflows/scheduler/index.js"),
  ]);
  const loaded = await findDagToTest(config, url, dagId, o.dags);
  const { dag } = loaded;
  const tasks = o.task === undefined ? dag.tasks : dag.tasks.filter((t) => t.id === o.task);
  if (tasks.length === 0) throw validationError(`DAG ${dagId} has no task ${JSON.stringify(o.task)}`);
  const at = date === undefined ? new Date() : parseDateInZone(date, dag.timezone);
  const interval =
    date === undefined && dag.schedule.kind === "cron"
      ? inferManualInterval(dag.schedule, at)
      : intervalForLogicalDate(dag.schedule, at);
  // Command tasks run here get `hourglass` as they would on a server (runtime/cli-shim.ts). This
  // process only runs the test, so its own environment is the tasks' environment.
  Object.assign(
    process.env,
    taskEnvironment(config, url, writeCliShim(config.stateDir), process.env["PATH"]),
  );
  let services: TaskServices;
  let close = async () => {};
  if (url) {
    services = createRemoteTaskServices(url);
  } else {
    const lake = openLocalLake(config.lakeDir);
    // The store gets the lake too: a task's query may be an UNLOAD.
    const store = await TimestreamStore.open({ dir: config.stateDir, sweepIntervalMs: 0, lake });
    services = createLocalTaskServices({ store, lake });
    close = () => store.close();
  }
  try {
    for (const task of tasks) {
      const log = (message: string) =>
        process.stdout.write(`[${new Date().toISOString()}] {${task.id}} INFO - ${message}\n`);
      try {
        await runTask(
          loaded,
          {
            dagId,
            taskId: task.id,
            runId: runIdFor("manual", interval.start),
            runType: "manual",
            dataIntervalStart: interval.start,
            dataIntervalEnd: interval.end,
            logicalDate: interval.start,
            tryNumber: 1,
            conf: o.conf ?? {},
          },
          { services, runOperator, signal: new AbortController().signal, log },
        );
      } catch (error) {
        process.stderr.write(
          `task ${task.id} failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        return 1;
      }
    }
    return 0;
  } finally {
    await close();
  }
}

const importErrorLines = (errors: readonly ImportError[]): string =>
  errors.map((e) => `\n  ${e.file}${e.line === undefined ? "" : `:${e.line}`}: ${e.message}`).join("");

/**
 * The DAG `dags test` runs, loaded afresh here: from --dags; else from the file the running
 * server loaded it from (the server may have been started with `hourglass up --dags X`, or
 * --demo's example folder, which this command's configuration does not know); else from the
 * configured folder.
 */
async function findDagToTest(
  config: HourglassConfig,
  url: string | null,
  dagId: string,
  dagsDirs: string[] | undefined,
): Promise<LoadedDag> {
  const { parseDags, loadDagFile } = await import("../workflows/index.js");
  if (dagsDirs === undefined && url !== null) {
    const known = await new RemoteWorkflows(new HttpClient(url)).getDag(dagId).catch((error: unknown) => {
      if (isHourglassError(error) && error.code === "NotFound") return null;
      throw error;
    });
    if (known !== null) {
      if (!fs.existsSync(known.filePath)) {
        throw validationError(
          `the server at ${url} loaded DAG ${JSON.stringify(dagId)} from ${known.filePath}, which is not on this machine: give its folder with --dags`,
        );
      }
      const load = await loadDagFile(known.filePath, { importTimeoutMs: config.dagImportTimeoutMs });
      const found = load.dags.find((d) => d.dag.id === dagId);
      if (found !== undefined) return found;
      throw validationError(
        `DAG ${JSON.stringify(dagId)} is no longer in ${known.filePath}${importErrorLines(load.importErrors)}`,
      );
    }
  }
  const dirs = dagsDirs ?? [config.dagsDir];
  const errors: ImportError[] = [];
  for (const dir of dirs) {
    if (dagsDirs === undefined && !fs.existsSync(dir)) {
      throw validationError(
        `DAG ${JSON.stringify(dagId)}: the DAG folder ${dir} does not exist and no server runs for ${config.stateDir}: give the DAG's folder with --dags`,
      );
    }
    // The folder is parsed in the DAG processor (a file that loops at import cannot hang this
    // command); only the DAG's own file is imported here, to run its tasks.
    const bag = await parseDags(path.resolve(dir), {
      importTimeoutMs: config.dagImportTimeoutMs,
      memoryLimitMb: config.dagParseMemoryMb,
    });
    const parsed = bag.dags.get(dagId);
    if (parsed !== undefined) {
      const live = await loadDagFile(parsed.file, { importTimeoutMs: config.dagImportTimeoutMs });
      const found = live.dags.find((candidate) => candidate.dag.id === dagId);
      if (found !== undefined) return found;
      errors.push(...live.importErrors);
      continue;
    }
    errors.push(...bag.importErrors);
  }
  const broken = importErrorLines(errors);
  throw validationError(
    `DAG ${JSON.stringify(dagId)} is not in ${dirs.map((d) => path.resolve(d)).join(", ")}${broken ? `; import errors:${broken}` : ""}${dagsDirs === undefined ? " (give its folder with --dags)" : ""}`,
  );
}
