/**
 * With a real server started on a DAG folder of its own (as `hourglass up --dags X`) and the real
 * CLI: after the DAG file changed and a run was cleared, `runs show` and `tasks state` show the
 * code version each try ran; `dags test` finds the DAG where the server found it, or in --dags.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";
import { dagSource } from "./helpers.js";

const dagFile = (words: string) =>
  dagSource(
    { id: "versioned", schedule: null, startDate: "2024-01-01T00:00:00Z", catchup: false },
    `[task({ id: "say", run: (ctx) => { ctx.log(${JSON.stringify(words)}); } })]`,
  );

describe("code versions and dags test, against a server with its own DAG folder", () => {
  let dir: string;
  let dagsDir: string;
  let runtime: HourglassRuntime;
  // cwd has no ./dags: the CLI's own configuration does not know the server's folder.
  const cli = (...args: string[]) => runCli(["--state-dir", path.join(dir, "state"), ...args], { cwd: dir });

  before(async () => {
    dir = tempDir("hg-versions-");
    dagsDir = path.join(dir, "my-dags");
    fs.mkdirSync(dagsDir);
    fs.writeFileSync(path.join(dagsDir, "versioned.ts"), dagFile("version one"));
    // Paused: only `dags test` runs it.
    fs.writeFileSync(
      path.join(dagsDir, "uses-cli.ts"),
      `import { command, dag, task } from "hourglass";\nexport default dag({ id: "uses-cli", schedule: null, startDate: "2024-01-01T00:00:00Z", tasks: [task({ id: "cli", operator: command({ command: "hourglass dags list" }) })] });\n`,
    );
    const config = resolveConfig({
      flags: { stateDir: path.join(dir, "state"), dagsDir, port: 0, workers: 1 },
      env: {},
      cwd: dir,
    });
    runtime = await startHourglass(config, { unpauseOnLoad: ["versioned"], tickMs: 100, log: silentLog });
  });
  after(async () => {
    await runtime.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const finished = (runId: string) =>
    runtime.events.waitFor("run:finished", (e) => e.run.runId === runId, 60_000);

  it("shows the version each try ran after the DAG file changed and the run was cleared", async () => {
    const v1 = (await runtime.workflows.getDag("versioned")).codeVersion;
    const run = await runtime.workflows.trigger("versioned");
    assert.equal((await finished(run.runId)).state, "success");

    const reloaded = runtime.events.waitFor("dags:loaded", () => true, 60_000);
    fs.writeFileSync(path.join(dagsDir, "versioned.ts"), dagFile("version two"));
    await reloaded;
    const v2 = (await runtime.workflows.getDag("versioned")).codeVersion;
    assert.notEqual(v2, v1);

    const again = finished(run.runId);
    const cleared = await cli("tasks", "clear", "versioned", "--run-id", run.runId);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await again).state, "success");

    const shown = await cli("runs", "show", "versioned", run.runId);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`: success \\[.*\\), code version ${v2}\\n`));
    assert.match(shown.stdout, new RegExp(`^say\\s+success\\s+2/\\d+\\s+${v2}\\s`, "m"));
    const state = await cli("tasks", "state", "versioned", run.runId, "say");
    assert.match(state.stdout, new RegExp(`^1\\s+success\\s+${v1}\\s`, "m"));
    assert.match(state.stdout, new RegExp(`^2\\s+success\\s+${v2}\\s`, "m"));
  });

  it("dags test loads the DAG from the server's folder, or from --dags", async () => {
    const viaServer = await cli("dags", "test", "versioned");
    assert.equal(viaServer.code, 0, viaServer.stderr);
    assert.match(viaServer.stdout, /\{say\} INFO - version two/);
    // A command task run by dags test has the same `hourglass` as on the server, talking to it.
    const cliTask = await cli("dags", "test", "uses-cli");
    assert.equal(cliTask.code, 0, cliTask.stderr);
    assert.match(cliTask.stdout, /\{cli\} INFO - versioned\s+None\s+false/);

    // No server for this state folder: the configured ./dags does not have it, --dags does.
    const alone = (...args: string[]) =>
      runCli(["--state-dir", path.join(dir, "other-state"), ...args], { cwd: dir });
    const missing = await alone("dags", "test", "versioned");
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /DAG "versioned": the DAG folder .*dags does not exist .*: give the DAG's folder with --dags/,
    );
    const given = await alone("dags", "test", "versioned", "--dags", dagsDir);
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stdout, /\{say\} INFO - version two/);
  });
});
