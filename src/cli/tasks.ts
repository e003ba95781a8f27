/** `hourglass tasks …`: clear task instances (they run again as a new try), read logs, show state. */
import { type Command, InvalidArgumentError } from "commander";
import { validationError } from "../errors.js";
import { example, withWorkflows } from "./dags.js";
import { printJson, renderTable } from "./output.js";

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return n;
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface ClearFlags {
  runId?: string;
  from?: string;
  to?: string;
  task?: string[];
  onlyFailed?: boolean;
  downstream?: boolean;
  json?: boolean;
}

export function registerTasks(program: Command): void {
  const tasks = program.command("tasks").description("task instances: clear, logs, state");

  tasks
    .command("clear <dag>")
    .description(
      "clear task instances of one run (--run-id) or of the runs whose logical date is in [--from, --to]: they run again as a new try, earlier tries' logs kept",
    )
    .option("--run-id <run>", "one run")
    .option("--from <date>", "first logical date (a date alone is midnight in the DAG's zone)")
    .option("--to <date>", "last logical date, included")
    .option("-t, --task <task>", "only this task (repeat for more)", collect)
    .option("--only-failed", "only failed and upstream_failed task instances")
    .option("--downstream", "also the tasks downstream of --task")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      example(
        "hourglass tasks clear timestream-airflow-demo --from 2021-09-21 --to 2021-09-22 --only-failed",
      ),
    )
    .action(async (dagId: string, o: ClearFlags, cmd: Command) => {
      if (o.runId === undefined && (o.from === undefined || o.to === undefined)) {
        throw validationError("say what to clear: --run-id, or both --from and --to");
      }
      await withWorkflows(cmd, async (api) => {
        const cleared = await api.clear({
          dagId,
          ...(o.runId === undefined ? {} : { runId: o.runId }),
          ...(o.from === undefined ? {} : { from: o.from }),
          ...(o.to === undefined ? {} : { to: o.to }),
          ...(o.task === undefined ? {} : { taskIds: o.task }),
          ...(o.onlyFailed ? { onlyFailed: true } : {}),
          ...(o.downstream ? { downstream: true } : {}),
        });
        if (o.json) return printJson(cleared);
        console.log(
          `cleared ${cleared.taskInstances.length} task instance(s) in ${cleared.runs.length} run(s)`,
        );
        for (const ti of cleared.taskInstances) console.log(`  ${ti.runId} ${ti.taskId}`);
      });
    });

  tasks
    .command("logs <dag> <run-id> <task>")
    .description("print a task's log (the latest try, or --try n)")
    .option("--try <n>", "which try", positive)
    .addHelpText(
      "after",
      example(
        "hourglass tasks logs timestream-airflow-demo scheduled__2021-09-22T13:00:00+00:00 ts_query --try 1",
      ),
    )
    .action(async (dagId: string, runId: string, taskId: string, o: { try?: number }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const log = await api.taskLog(dagId, runId, taskId, o.try);
        process.stdout.write(log.text);
      });
    });

  tasks
    .command("state <dag> <run-id> <task>")
    .description("show a task instance's state and its tries, with the code version each try ran")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      example("hourglass tasks state timestream-airflow-demo scheduled__2021-09-22T13:00:00+00:00 ts_query"),
    )
    .action(async (dagId: string, runId: string, taskId: string, o: { json?: boolean }, cmd: Command) => {
      await withWorkflows(cmd, async (api) => {
        const state = await api.taskState(dagId, runId, taskId);
        if (o.json) return printJson(state);
        console.log(state.state);
        console.log(
          renderTable(
            ["try", "state", "version", "started", "ended", "error"],
            state.tries.map((t) => [
              String(t.tryNumber),
              t.state,
              t.codeVersion ?? "",
              t.startedAt,
              t.endedAt ?? "",
              t.error ?? "",
            ]),
          ),
        );
      });
    });
}
