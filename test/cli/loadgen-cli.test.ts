/** `hourglass loadgen`, spawned as a user runs it, on a temporary state folder. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { BIN, runCli } from "../support/cli.js";

describe("hourglass loadgen", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-loadgen-"));
  const cli = (args: string[]) => runCli(["--state-dir", dir, ...args]);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("fills a historical range into the store and prints a summary", async () => {
    // 30 seconds, a loop every 10 s, ending a minute ago: inside the table's memory store.
    const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    const from = new Date(to.getTime() - 30_000);
    const run = await cli([
      "loadgen",
      "--historical",
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--step",
      "10s",
      "--database",
      "devops",
      "--table",
      "host_metrics",
      "--create",
      "--region",
      "eu-west-1",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /note: --region is ignored/);
    assert.match(run.stdout, /^loadgen summary\n {2}target\s+devops\.host_metrics\n/);
    assert.match(run.stdout, /\n {2}loops\s+3\n {2}records\s+78,000\n {2}taken\s+78,000\n {2}rejected\s+0\n/);
    assert.match(run.stdout, new RegExp(`first time\\s+${from.toISOString()}`));
    assert.match(run.stderr, /loadgen\s+78,000\/78,000 records\s+100\.0%/, "the progress bar's last line");

    const counted = await cli([
      "query",
      'SELECT measure_name, count(*) AS n FROM "devops"."host_metrics" GROUP BY measure_name ORDER BY measure_name',
      "--format",
      "csv",
    ]);
    assert.equal(counted.code, 0, counted.stderr);
    const rows = counted.stdout.trim().split("\n").slice(1);
    assert.equal(rows.length, 24);
    assert.ok(rows.includes("cpu_user,3000"));
    assert.ok(rows.includes("memory_free,6600"), "memory_free is a metric and an event measure");
  });

  it("runs in real time into a stream, and stops on Ctrl+C with a summary", async () => {
    const limited = await cli([
      "loadgen",
      "--stream",
      "live",
      "--create",
      "--shards",
      "2",
      "--loops",
      "1",
      "--shape",
      "multi",
      "--no-events",
      "--seed",
      "7",
    ]);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stdout, /records\s+1,000\n/);
    assert.match(limited.stdout, /prefix\s+(?!LxtYOnRY)\w{8}\n/, "another seed, another prefix");

    const child = spawn(process.execPath, [BIN, "--state-dir", dir, "loadgen", "--stream", "live"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const started = new Promise<void>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes("Ctrl+C to stop")) resolve();
      });
    });
    await started;
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /aborted\s+yes/);

    const described = JSON.parse((await cli(["stream", "describe", "live"])).stdout);
    const total = described.ShardStats.reduce(
      (n: number, s: { RecordCount: number }) => n + s.RecordCount,
      0,
    );
    const loops = Number(/loops\s+(\d+)/.exec(stdout)![1]);
    assert.equal(
      total,
      1000 + loops * 26_000,
      "the limited run's 1,000 records and the aborted run's whole loops",
    );
  });

  it("explains bad flags", async () => {
    const checks: [string[], RegExp][] = [
      [["loadgen", "--to", "stream"], /--to stream needs --stream <name>/],
      [
        ["loadgen", "--stream", "s", "--shape", "triple"],
        /argument 'triple' is invalid\. Allowed choices are single, multi/,
      ],
      [["loadgen", "--stream", "s", "--historical", "--loops", "3"], /--loops is for --realtime/],
      [
        ["loadgen", "--stream", "s", "--historical", "--from", "yesterday"],
        /'yesterday' is not a time: use now, -24h/,
      ],
      [["loadgen", "--stream", "s", "--host-scale", "0"], /'--host-scale <n>' argument '0' is invalid/],
    ];
    const results = await Promise.all(checks.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      assert.notEqual(result.code, 0, checks[i]![0].join(" "));
      assert.match(result.stderr, checks[i]![1], checks[i]![0].join(" "));
    });
    const missing = await cli(["loadgen", "--stream", "nope", "--loops", "1"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error: stream nope not found/);
    const help = await cli(["loadgen", "--help"]);
    assert.match(
      help.stdout,
      /--sleep-time <seconds>[\s\S]*--percent-late <p>[\s\S]*--late-time <seconds>[\s\S]*Examples:/,
    );
  });
});
