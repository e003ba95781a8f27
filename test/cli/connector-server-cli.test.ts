/**
 * The managed connectors through the real CLI against a real `hourglass up`: a connector defined
 * while no server ran is started by `hourglass up`; records put with `hourglass stream put` reach
 * the table; stop, start, create (of one whose stream is missing), list and delete go over HTTP;
 * and after the server is stopped and started again the connector resumes from its checkpoint.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TimestreamStore } from "../../src/store/index.js";
import type { ConnectorDescription } from "../../src/stream/connector/index.js";
import { openStreamService } from "../../src/stream/index.js";
import { BIN, runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

describe("hourglass connector … against hourglass up", () => {
  const dir = tempDir("hg-cli-managed-");
  const cli = (args: string[], input?: string) =>
    runCli(["--state-dir", dir, ...args], input === undefined ? {} : { input });
  let server: ChildProcess | null = null;
  let serverErr = "";
  let host = 0;

  /** `n` single-measure records, one JSON per line, each its own series. */
  const jsonLines = (n: number) => {
    const nowMs = Date.now();
    return Array.from({ length: n }, () =>
      JSON.stringify({
        MeasureName: "cpu",
        MeasureValue: "1.5",
        Time: String(nowMs),
        TimeUnit: "MILLISECONDS",
        host: `host-${host++}`,
      }),
    ).join("\n");
  };
  const put = async (n: number) => {
    const result = await cli(
      ["stream", "put", "metrics", "--partition-key", `p${host}`, "--lines"],
      jsonLines(n),
    );
    assert.equal(result.code, 0, result.stderr);
  };
  /** The running server's answer (the CLI's own output is checked where it is the subject). */
  const describeJson = async (name: string): Promise<ConnectorDescription> => {
    const { url } = JSON.parse(fs.readFileSync(path.join(dir, "server.json"), "utf8")) as { url: string };
    const response = await fetch(new URL(`/api/v1/connectors/${name}`, url));
    assert.equal(response.status, 200);
    return (await response.json()) as ConnectorDescription;
  };
  /** Asks the server until the connector wrote `total`: a wait on the condition, with a deadline. */
  const waitForWritten = async (name: string, total: number) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const d = await describeJson(name);
      if (d.counts.written >= total) return d;
      assert.ok(
        Date.now() < deadline,
        `connector ${name} wrote ${d.counts.written} of ${total}: ${d.reason}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const rows = async () => {
    const counted = await cli(["query", 'SELECT count(*) FROM "devops"."tbl"', "--format", "csv"]);
    assert.equal(counted.code, 0, counted.stderr);
    return Number(counted.stdout.trim().split("\n")[1]);
  };
  const startServer = async () => {
    serverErr = "";
    const child = spawn(
      process.execPath,
      [BIN, "--state-dir", dir, "up", "--port", "0", "--workers", "1", "--dags", path.join(dir, "dags")],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        serverErr += d.toString();
        if (serverErr.includes("press Ctrl+C to stop")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`hourglass up exited ${code}: ${serverErr}`)));
    });
  };
  const stopServer = async () => {
    const child = server!;
    server = null;
    const exited = once(child, "exit");
    child.kill("SIGINT");
    const [code] = await exited;
    assert.equal(code, 0, serverErr);
  };

  before(async () => {
    const streams = await openStreamService({ dir, sweepIntervalMs: 0 });
    await streams.createStream("metrics", 2);
    await streams.close();
    const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
    await store.createDatabase("devops");
    await store.createTable({ DatabaseName: "devops", TableName: "tbl" });
    await store.close();
    // Defined while no server runs: the server starts it.
    const created = await cli([
      "connector",
      "create",
      "m",
      "--stream",
      "metrics",
      "--database",
      "devops",
      "--table",
      "tbl",
    ]);
    assert.equal(created.code, 0, created.stderr);
  });
  after(async () => {
    if (server) await stopServer().catch(() => server?.kill("SIGKILL"));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("hourglass up starts it; records put by `stream put` reach the table; stop, start, create, list, delete", async () => {
    await startServer();
    await put(120);
    let d = await waitForWritten("m", 120);
    assert.equal(d.state, "running");

    const [text, counted, refused, missing] = await Promise.all([
      cli(["connector", "describe", "m"]),
      rows(),
      cli(["connector", "run", "--stream", "metrics", "--database", "devops", "--table", "tbl"]),
      cli(["connector", "create", "lost", "--stream", "nope", "--database", "devops", "--table", "tbl"]),
    ]);
    assert.equal(counted, 120);
    assert.match(text.stdout, /^connector m: metrics → devops\.tbl \(mapping single, from trim-horizon/);
    assert.match(text.stdout, /state: running/);
    assert.match(text.stdout, /written 120 {2}rejected 0 {2}parse-failed 0 {2}dead-lettered 0/);
    assert.match(text.stdout, /shardId-00000000000[01] +49\d+ +0 +0/);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /a Hourglass server runs for .*: it runs connectors you create on it, e\.g\. `hourglass connector create metrics --stream metrics --database devops --table tbl`/,
    );
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stdout, /created connector lost: nope → devops\.tbl; failed: cannot start/);
    assert.match(missing.stderr, /warning: connector lost did not start: .*stream nope not found; create it/);

    const stopped = await cli(["connector", "stop", "m"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /connector m stopped \(written 120, checkpoint saved /);
    await put(30);
    d = await describeJson("m");
    assert.equal(d.state, "stopped");
    assert.equal(d.lag.records, 30);
    assert.equal(d.counts.written, 120);

    const started = await cli(["connector", "start", "m"]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /connector m: running/);
    await waitForWritten("m", 150);

    const [listed, total, deleted] = await Promise.all([
      cli(["connector", "list"]),
      rows(),
      cli(["connector", "delete", "lost"]),
    ]);
    assert.equal(total, 150);
    assert.match(listed.stdout, /\nm +running +metrics +devops\.tbl +150 +0/);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await cli(["connector", "describe", "lost"]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no connector named lost in this server/);
  });

  it("after the server is stopped and started again the connector resumes from its checkpoint: exact count", async () => {
    await put(40);
    await stopServer();
    // No server: the records wait on the stream, the definition says it still runs.
    await put(25);
    await startServer();
    const d = await waitForWritten("m", 215);
    assert.equal(d.counts.written, 215);
    assert.equal(await rows(), 215);
    await stopServer();
  });
});
