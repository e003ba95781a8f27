/** `hourglass connector run | status`, spawned as a user runs them, on a temporary state folder. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { acquireServerLock, removeServerInfo, writeServerInfo } from "../../src/api/server-info.js";
import { TimestreamStore } from "../../src/store/index.js";
import { BIN, runCli } from "../support/cli.js";

describe("hourglass connector", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-connector-"));
  const cli = (args: string[]) => runCli(["--state-dir", dir, ...args]);
  const runArgs = [
    "connector",
    "run",
    "--stream",
    "metrics",
    "--database",
    "devops",
    "--table",
    "host_metrics",
  ];

  before(async () => {
    // The input: one real-time loop of the load generator (26,000 records), and an empty table.
    const generated = await cli([
      "loadgen",
      "--stream",
      "metrics",
      "--create",
      "--shards",
      "2",
      "--loops",
      "1",
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
    await store.createDatabase("devops");
    await store.createTable({ DatabaseName: "devops", TableName: "host_metrics" });
    await store.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs until Ctrl+C, printing status lines, then saves its checkpoint and exits 0", async () => {
    const child = spawn(process.execPath, [BIN, "--state-dir", dir, ...runArgs, "--status-interval", "1"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const caughtUp = new Promise<void>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (/written 26,000 .*lag 0 records/.test(stdout)) resolve();
      });
    });
    const exited = once(child, "exit");
    await Promise.race([caughtUp, exited.then(() => assert.fail(`the connector exited: ${stderr}`))]);
    child.kill("SIGINT");
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^connector metrics: metrics → devops\.host_metrics, mapping single, 2 shard\(s\), from trim-horizon/,
    );
    assert.match(
      stdout,
      /connector metrics stopped: written 26,000 {2}rejected 0 {2}parse-failed 0 {2}dead-lettered 0/,
    );
    assert.match(stderr, /SIGINT: finishing the batch in hand and saving the checkpoint/);

    const status = await cli(["connector", "status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /connector metrics: metrics → devops\.host_metrics \(mapping single\)/);
    assert.match(status.stdout, /written 26,000/);
    assert.match(status.stdout, /shardId-000000000000 {2}49000000\d{48}/);
    const saved = JSON.parse((await cli(["connector", "status", "--name", "metrics", "--json"])).stdout);
    assert.equal(saved.counts.written, 26_000);
    assert.equal(Object.keys(saved.shards).length, 2);

    const counted = await cli(["query", 'SELECT count(*) FROM "devops"."host_metrics"', "--format", "csv"]);
    assert.equal(counted.stdout.trim().split("\n")[1], "26000");
  });

  it("explains bad flags, a missing table or checkpoint, and refuses while a server runs", async () => {
    const checks: [string[], RegExp][] = [
      [
        ["connector", "run", "--stream", "metrics", "--database", "devops"],
        /required option '--table <name>' not specified/,
      ],
      [
        [...runArgs, "--mapping", "xml"],
        /argument 'xml' is invalid\. Allowed choices are single, flat, auto/,
      ],
      [["connector", "status", "--name", "zzz"], /connector zzz has no checkpoint/],
    ];
    const results = await Promise.all(checks.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      assert.notEqual(result.code, 0, checks[i]![0].join(" "));
      assert.match(result.stderr, checks[i]![1], checks[i]![0].join(" "));
    });
    const noTable = await cli([
      "connector",
      "run",
      "--stream",
      "metrics",
      "--database",
      "devops",
      "--table",
      "nope",
    ]);
    assert.equal(noTable.code, 2);
    assert.match(noTable.stderr, /error: Table 'devops\.nope' does not exist/);

    // What `hourglass up` does: hold the server lock, then leave server.json for the CLI.
    const serverLock = await acquireServerLock(dir);
    writeServerInfo(dir, {
      pid: process.pid,
      url: "http://127.0.0.1:9",
      startedAt: new Date().toISOString(),
    });
    try {
      const refused = await cli(runArgs);
      assert.equal(refused.code, 2);
      assert.match(
        refused.stderr,
        /a Hourglass server runs for .* \(http:\/\/127\.0\.0\.1:9\): it runs connectors you create on it, e\.g\. `hourglass connector create metrics --stream metrics --database devops --table host_metrics`/,
      );
    } finally {
      removeServerInfo(dir);
      await serverLock.release();
    }
    const help = await cli(["connector", "run", "--help"]);
    assert.match(help.stdout, /Example:\n {2}hourglass connector run --stream airflow-timestream/);
  });
});
