/**
 * The `hourglass` command for task processes. The seed's backfill DAG runs
 * `hourglass backfill create …` from a command task, as its Airflow original ran `airflow …`; a
 * worker cannot count on the user's PATH for it (`npm start` and `npx` put node_modules/.bin on
 * the PATH of the server only, `node bin/hourglass.js` puts nothing there). So the server writes a
 * one-line shim, `<stateDir>/bin/hourglass`, that execs the same node binary and the same
 * bin/hourglass.js the server runs, on the same copy of the code (with HOURGLASS_FROM_SOURCE=1
 * when the server runs the TypeScript sources, so bin/hourglass.js does not pick dist/; see
 * src/own-code.ts), and its workers get:
 *
 * - PATH with that folder first;
 * - HOURGLASS_SERVER, the server's URL (the CLI's --server default), so the command talks to the
 *   server that runs the task, even one that left no server.json (`hourglass demo --once`);
 * - HOURGLASS_STATE_DIR, the server's state folder, for commands that work on the folder itself;
 * - with signatures checked, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of a key the server holds
 *   in memory for its tasks, AWS_REGION / AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL, so that task
 *   code calling the AWS APIs (the seed's boto3 script) signs its calls (docs/decisions.md, D12).
 *
 * `hourglass dags test` gives the tasks it runs in its own process the same environment.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { HourglassConfig } from "../config.js";
import { runsFromSource } from "../own-code.js";

/** bin/hourglass.js of this checkout or package: the entry point every way of starting Hourglass runs. */
export const cliEntry = fileURLToPath(new URL("../../bin/hourglass.js", import.meta.url));

const shellWord = (text: string): string => `'${text.replaceAll("'", `'"'"'`)}'`;

/** Writes `<stateDir>/bin/hourglass` (atomically: a task may be starting it) and returns its folder. */
export function writeCliShim(stateDir: string): string {
  const dir = path.join(stateDir, "bin");
  fs.mkdirSync(dir, { recursive: true });
  const script = [
    "#!/bin/sh",
    "# Written by the Hourglass server for its task processes (src/runtime/cli-shim.ts): the same",
    "# node and bin/hourglass.js as the server. Rewritten at each start.",
    ...(runsFromSource ? ["export HOURGLASS_FROM_SOURCE=1"] : []),
    `exec ${shellWord(process.execPath)} ${shellWord(cliEntry)} "$@"`,
    "",
  ].join("\n");
  const file = path.join(dir, "hourglass");
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, script, { mode: 0o755 });
  fs.renameSync(temp, file);
  return dir;
}

/** The region tasks sign with: any region verifies, this one is what the AWS examples use. */
export const TASK_AWS_REGION = "us-east-1";

/** What task processes get on top of the server's environment (see the file comment). */
export function taskEnvironment(
  config: HourglassConfig,
  serverUrl: string | null,
  shimDir: string,
  inheritedPath: string | undefined,
  taskKey?: { accessKeyId: string; secretAccessKey: string } | null,
): Record<string, string> {
  return {
    PATH: inheritedPath ? `${shimDir}${path.delimiter}${inheritedPath}` : shimDir,
    ...(serverUrl === null ? {} : { HOURGLASS_SERVER: serverUrl, AWS_ENDPOINT_URL: serverUrl }),
    HOURGLASS_STATE_DIR: config.stateDir,
    ...(taskKey
      ? {
          AWS_ACCESS_KEY_ID: taskKey.accessKeyId,
          AWS_SECRET_ACCESS_KEY: taskKey.secretAccessKey,
          AWS_REGION: TASK_AWS_REGION,
          AWS_DEFAULT_REGION: TASK_AWS_REGION,
        }
      : {}),
  };
}
