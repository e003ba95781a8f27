/** `hourglass runs …`: list runs (filters as Airflow's), show one with its task instances, mark one. */
import { type Command, InvalidArgumentError } from "commander";
import { example, withWorkflows } from "./dags.js";
import { printJson, renderTable } from "./output.js";

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return n;
};
const csv = (value: string): string[] => value.split(",").map((item) => item.trim());

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("DAG runs: list, show, mark");

  runs
    .command("list")
    .description("list runs, newest first, each with the code version its latest try ran")
    .option("--dag <dag>", "only this DAG's runs")
    .option("--state <states>", "only these states (queued,running,success,failed)", csv)
    .option("--type <types>", "only these run types (scheduled,backfill,manual,reexport)", csv)
    .option("--limit <n>", "at most this many (default 100)", positive)
    .option("--json", "print JSON")
    .addHelpText("after", example("hourglass runs list --dag timestream-airflow-demo --state failed"))
    .action(
      async (
        o: { dag?: string; state?: string[]; type?: string[]; limit?: number; json?: boolean },
        cmd: Command,
      ) => {
        await withWorkflows(cmd, async (api) => {
          const list = await api.listRuns({
            ...(o.dag === undefined ? {} : { dagId: o.dag }),
            ...(o.state === undefined ? {} : { states: o.state }),
            ...(o.type === undefined ? {} : { runTypes: o.type }),
            ...(o.limit === undefined ? {} : { limit: o.limit }),
          });
          if (o.json) return printJson(list);
          console.log(
            renderTable(
              ["dag_id", "run_id", "state", "interval start", "interval end", "started", "ended", "version"],
              list.map((r) => [
                r.dagId,
                r.runId,
                r.state,
                r.dataIntervalStart,
                r.dataIntervalEnd,
                r.startedAt ?? "",
                r.endedAt ?? "",
                r.codeVersion ?? "",
              ]),
            ),
          );
        });
      },
    );

  runs
    .command("show <dag> <run-id>")
    .description(
      "show a run and its task instances, with the code version each one's latest try ran (every try's: tasks state)",
    )
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      example("hourglass runs show timestream-airflow-demo scheduled__2021-09-22T13:00:00+00:00"),
    )
    .action(async (dagId: string, runId: string, o: { json?: boolean }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const run = await api.getRun(dagId, runId);
        if (o.json) return printJson(run);
        const version = run.codeVersion === null ? "" : `, code version ${run.codeVersion}`;
        console.log(
          `${run.dagId} ${run.runId}: ${run.state} [${run.dataIntervalStart}, ${run.dataIntervalEnd})${version}`,
        );
        console.log(
          renderTable(
            ["task", "state", "try", "version", "duration", "error"],
            run.taskInstances.map((ti) => [
              ti.taskId,
              ti.state,
              `${ti.tryNumber}/${ti.maxTries}`,
              ti.codeVersion ?? "",
              ti.durationMs === null ? "" : `${(ti.durationMs / 1000).toFixed(1)}s`,
              ti.error ?? "",
            ]),
          ),
        );
      });
    });

  runs
    .command("mark <dag> <run-id> <state>")
    .description("mark a run success or failed (its unfinished tasks are settled accordingly)")
    .addHelpText(
      "after",
      example("hourglass runs mark timestream-airflow-demo scheduled__2021-09-22T13:00:00+00:00 failed"),
    )
    .action(async (dagId: string, runId: string, state: string, _o: unknown, cmd: Command) => {
      if (state !== "success" && state !== "failed") {
        throw new InvalidArgumentError(`state must be success or failed, got '${state}'`);
      }
      await withWorkflows(cmd, async (api) => {
        const run = await api.markRun(dagId, runId, state);
        console.log(`${run.runId} is ${run.state}`);
      });
    });
}
