/**
 * Task processes sign their AWS calls with a key the server holds for them (docs/decisions.md,
 * D10): a command task runs boto3 against the server's Timestream, Kinesis and S3 endpoints with
 * nothing but its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
 * HOURGLASS_SERVER), and the key is neither in keys.json nor in the task's log.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { keysFilePath, listAccessKeys } from "../../src/access/index.js";
import { type Scenario, startScenario } from "./helpers.js";

const probe = spawnSync("python3", ["-c", "import boto3"], { encoding: "utf8" });
const skip = probe.status === 0 ? false : "python3 on PATH has no boto3";
if (skip) console.log(`# skipping the task key test: ${skip}`);

const SCRIPT = [
  // One line: the command goes through the shell, which does not read escapes inside quotes.
  "import os, boto3",
  "kw = dict(endpoint_url=os.environ['HOURGLASS_SERVER'])",
  "print('databases', [d['DatabaseName'] for d in boto3.client('timestream-write', **kw).list_databases()['Databases']])",
  "print('streams', boto3.client('kinesis', **kw).list_streams()['StreamNames'])",
  "boto3.client('s3', **kw).put_object(Bucket='task-bucket', Key='from-task.txt', Body=b'signed by a task')",
  "print('key id', os.environ['AWS_ACCESS_KEY_ID'])",
].join("; ");

const DAG = `
import { command, dag, task } from "hourglass";
export default dag({
  id: "task-key",
  schedule: null,
  startDate: "2021-09-22T00:00:00Z",
  defaultArgs: { retries: 0 },
  tasks: [task({ id: "aws_calls", operator: command({ command: ${JSON.stringify(`python3 -c ${JSON.stringify(SCRIPT)}`)} }) })],
});
`;

describe("the key task processes sign with", { skip }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario({ dagFiles: { "task-key.ts": DAG } });
    await s.runtime.store.createDatabase("task-db");
    await s.runtime.lake.createBucket("task-bucket");
  });
  after(async () => s?.close());

  it("lets a command task's boto3 call Timestream, Kinesis and S3 with the server's task key", async () => {
    const { workflows, events } = s.runtime;
    await workflows.setPaused("task-key", false);
    const run = await workflows.trigger("task-key");
    const finished = await events.waitFor("run:finished", (e) => e.run.runId === run.runId, 120_000);
    const log = (await workflows.taskLog("task-key", run.runId, "aws_calls")).text;
    assert.equal(finished.state, "success", log);
    assert.match(log, /databases \['task-db'\]/);
    assert.match(log, /streams \[\]/);
    assert.equal(
      Buffer.from(await s.runtime.lake.getObject("task-bucket", "from-task.txt")).toString(),
      "signed by a task",
    );
    const keyId = /key id (\S+)/.exec(log)?.[1];
    assert.ok(keyId);
    // In memory only: not in keys.json, so `keys list` does not show it and no file holds its secret.
    assert.ok(!listAccessKeys(s.stateDir).some((k) => k.accessKeyId === keyId));
    if (fs.existsSync(keysFilePath(s.stateDir)))
      assert.ok(!fs.readFileSync(keysFilePath(s.stateDir), "utf8").includes(keyId));
    assert.ok(!fs.readdirSync(path.join(s.stateDir)).includes("task-key.json"));
  });
});
