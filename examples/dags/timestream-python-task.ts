/**
 * The seed's export as the seed wrote it: Python code calling the AWS APIs (its task ran
 * awswrangler's timestream.query and s3.to_csv), here examples/python/seed_task.py with boto3 and
 * pandas, run by a command task against this server's Timestream Query and S3 endpoints.
 *
 * It writes the same files as timestream-airflow-demo (the native export), to the same keys,
 * `demo-airflow-ts-output/YYYY-MM-DD-HH/my_file.csv`, with the same bytes (docs/operators.md, "The
 * seed's task code, unchanged"), but no manifest. Run one of the two for an hour, not both: the later
 * write wins. New DAGs start paused (unpausing this one runs the hours since yesterday's midnight,
 * as the seed's did); a backfill runs on a paused DAG, so one hour is
 *
 *   npx hourglass backfill create timestream-python-task --from 2021-09-22T13:00:00Z --to 2021-09-22T13:00:00Z
 *
 * It needs a Python with boto3 and pandas: Debian's /usr/bin/python3 with python3-boto3 and
 * python3-pandas (apt-get install python3-boto3 python3-pandas), or another set as SEED_TASK_PYTHON below.
 */
import { fileURLToPath } from "node:url";
import { command, dag, task } from "hourglass";

/** The script beside the dags folder (examples/python/); resolved when the file loads. */
const script = fileURLToPath(new URL("../python/seed_task.py", import.meta.url));

/**
 * The script reads the interval from HOURGLASS_DATA_INTERVAL_START/_END, which every command task
 * gets, and is pointed at the server running the task (HOURGLASS_SERVER): boto3 1.26 does not read
 * AWS_ENDPOINT_URL, so the URL goes in as --endpoint-url. Its keys are the server's: every task
 * process gets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION of a key the server
 * holds for its tasks (docs/operators.md), so nothing secret is written here.
 */
const runScript = '"$SEED_TASK_PYTHON" "$SEED_TASK_SCRIPT" --endpoint-url "$HOURGLASS_SERVER"';

export default dag({
  id: "timestream-python-task",
  schedule: "0 */1 * * *",
  startDate: { daysAgo: 1 },
  catchup: true,
  dagrunTimeoutMs: 2 * 60 * 60 * 1000,
  defaultArgs: { retries: 0, retryDelayMs: 5 * 60 * 1000 },
  tasks: [
    task({
      id: "ts_query",
      operator: command({
        command: runScript,
        env: {
          // Debian's Python, with python3-boto3 and python3-pandas; another with boto3 and pandas works too.
          SEED_TASK_PYTHON: "/usr/bin/python3",
          SEED_TASK_SCRIPT: script,
        },
        timeoutMs: 30 * 60 * 1000,
      }),
    }),
  ],
});
