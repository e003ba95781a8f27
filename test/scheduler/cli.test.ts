/** The workflow commands, by spawning the real binary on a state folder with no server running. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";
import { dagSource } from "./helpers.js";

describe("hourglass dags / runs / tasks / backfill (no server)", () => {
  let dir: string;
  let cli: (...args: string[]) => ReturnType<typeof runCli>;
  before(() => {
    dir = tempDir("hourglass-cli-");
    fs.mkdirSync(path.join(dir, "dags"));
    fs.writeFileSync(
      path.join(dir, "dags", "hello.ts"),
      dagSource(
        { id: "hello", schedule: "@hourly", startDate: "2024-01-01T00:00:00Z", catchup: false },
        `[task({ id: "say", run: (ctx) => { ctx.log("hello " + ctx.folder); } })]`,
      ),
    );
    fs.writeFileSync(path.join(dir, "dags", "broken.ts"), "export default {{;\n");
    cli = (...args) => runCli(["--state-dir", path.join(dir, "state"), ...args], { cwd: dir });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lists DAGs and import errors (file and line)", async () => {
    const list = await cli("dags", "list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^hello\s+@hourly\s+true\s+true/m);
    const errors = await cli("dags", "errors");
    assert.match(errors.stdout, /broken\.ts:1:\d+: syntax error/);
  });

  it("runs a backfill in-process with a progress bar, then shows runs, state and logs", async () => {
    const made = await cli(
      "backfill",
      "create",
      "hello",
      "--from",
      "2024-01-01T00:00Z",
      "--to",
      "2024-01-01T02:00Z",
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(
      made.stdout,
      /backfill 1 of hello \[2024-01-01T00:00:00\.000Z \.\. 2024-01-01T03:00:00\.000Z\) is completed: 3\/3 done/,
    );
    assert.match(made.stderr, /backfill 1 of hello .*3\/3 runs/);
    const runs = await cli("runs", "list", "--dag", "hello", "--json");
    assert.deepEqual(
      JSON.parse(runs.stdout)
        .map((r: { runId: string }) => r.runId)
        .sort(),
      [
        "backfill__2024-01-01T00:00:00+00:00",
        "backfill__2024-01-01T01:00:00+00:00",
        "backfill__2024-01-01T02:00:00+00:00",
      ],
    );
    const logs = await cli("tasks", "logs", "hello", "backfill__2024-01-01T01:00:00+00:00", "say");
    assert.match(logs.stdout, /\{say\} INFO - hello 2024-01-01-01/);
    const state = await cli("tasks", "state", "hello", "backfill__2024-01-01T01:00:00+00:00", "say");
    assert.match(state.stdout, /^success/);
    const shown = await cli("backfill", "show", "1");
    assert.match(shown.stdout, /is completed: 3\/3 done \(succeeded 3/);
  });

  it("dags test runs a task here without recording a run", async () => {
    const tested = await cli("dags", "test", "hello", "2024-02-01T05:00:00Z");
    assert.equal(tested.code, 0, tested.stderr);
    assert.match(tested.stdout, /\{say\} INFO - hello 2024-02-01-05/);
    const runs = await cli("runs", "list", "--dag", "hello", "--json");
    assert.equal(JSON.parse(runs.stdout).length, 3);
  });

  it("refuses bad input with a clear message and exit code 2; --help shows an example", async () => {
    const reversed = await cli(
      "backfill",
      "create",
      "hello",
      "--from",
      "2024-01-02",
      "--to",
      "2024-01-01",
      "--dry-run",
    );
    assert.equal(reversed.code, 2);
    assert.match(reversed.stderr, /error: backfill range is reversed/);
    const unknown = await cli("dags", "trigger", "ghost");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /DAG "ghost" is not known/);
    const conf = await cli("dags", "trigger", "hello", "--conf", "[1]");
    assert.notEqual(conf.code, 0);
    assert.match(conf.stderr, /it must be a JSON object/);
    const clear = await cli("tasks", "clear", "hello");
    assert.equal(clear.code, 2);
    assert.match(clear.stderr, /say what to clear: --run-id, or both --from and --to/);
    const help = await cli("backfill", "create", "--help");
    assert.match(
      help.stdout,
      /Example:\n {2}\$ hourglass backfill create timestream-airflow-demo --from 2021-09-21 --to 2021-09-22/,
    );
  });
});
