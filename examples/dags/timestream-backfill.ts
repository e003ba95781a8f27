/**
 * The seed's second DAG: a manual-only DAG that starts a backfill of another DAG, for hosts where
 * the scheduler's command line is out of reach (MWAA had no Airflow CLI). Trigger it with
 *
 *   { "dag": "timestream-airflow-demo", "from": "2021-09-21", "to": "2021-09-22" }
 *
 * The seed passed a whole command line in conf ("airflow {{ dag_run.conf['command'] }}"), which
 * lets whoever triggers it run any command. Here conf only fills three params, and the command
 * operator quotes each value as one shell word, so a trigger cannot add commands or options.
 */
import { command, dag, task } from "hourglass";

export default dag({
  id: "timestream-backfill",
  schedule: null,
  startDate: "2020-09-09T00:00:00Z",
  catchup: false,
  defaultArgs: { retries: 0, retryDelayMs: 5 * 60 * 1000 },
  params: {
    dag: { type: "string", default: "timestream-airflow-demo", description: "the DAG to backfill" },
    from: { type: "string", description: "first logical date, e.g. 2021-09-21" },
    to: { type: "string", description: "last logical date (included), e.g. 2021-09-22" },
  },
  tasks: [
    task({
      id: "cli_command",
      operator: command({
        command: "hourglass backfill create {{ params.dag }} --from {{ params.from }} --to {{ params.to }}",
      }),
    }),
  ],
});
