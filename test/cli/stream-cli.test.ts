/** `hourglass stream …`, spawned as a user runs it: on the state folder, then over HTTP. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/api/app.js";
import { type RunningHttpServer, startHttpServer } from "../../src/api/http-server.js";
import { acquireServerLock, removeServerInfo, writeServerInfo } from "../../src/api/server-info.js";
import type { ProcessLock } from "../../src/process-lock.js";
import { TimestreamStore } from "../../src/store/index.js";
import { openStreamService, type StreamService } from "../../src/stream/index.js";
import { BIN, runCli } from "../support/cli.js";

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-stream-"));
const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

describe("hourglass stream (on the state folder)", () => {
  const dir = tempDir();
  const cli = (args: string[], input?: string) => runCli(["--state-dir", dir, ...args], { input });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates, lists, describes, puts, gets and deletes", async () => {
    const created = await cli(["stream", "create", "clicks", "--shards", "2", "--retention-hours", "48"]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).RetentionPeriodHours, 48);

    const listed = await cli(["stream", "list"]);
    assert.match(listed.stdout, /^StreamName\s+Shards\s+RetentionHours/);
    assert.match(listed.stdout, /\nclicks\s+2\s+48\s/);

    const one = await cli(["stream", "put", "clicks", "--partition-key", "user-1", "--data", "first"]);
    assert.equal(one.code, 0, one.stderr);
    const [shard, firstSeq] = one.stdout.trim().split(" ");
    assert.match(shard!, /^shardId-00000000000[01]$/);
    const many = await cli(
      ["stream", "put", "clicks", "--partition-key", "user-1", "--lines"],
      "second\nthird\n\nfourth\n",
    );
    assert.equal(lines(many.stdout).length, 3, many.stderr);

    const got = await cli(["stream", "get", "clicks", "--shard", shard!.slice(-1)]);
    assert.equal(got.code, 0, got.stderr);
    const records = lines(got.stdout).map(
      (l) => JSON.parse(l) as { Data: string; PartitionKey: string; SequenceNumber: string },
    );
    assert.deepEqual(
      records.map((r) => r.Data),
      ["first", "second", "third", "fourth"],
    );
    assert.equal(records[0]!.PartitionKey, "user-1");
    const after = await cli(["stream", "get", "clicks", "--from", `after:${firstSeq}`, "--limit", "2"]);
    assert.deepEqual(
      lines(after.stdout).map((l) => JSON.parse(l).Data),
      ["second", "third"],
    );

    const described = JSON.parse((await cli(["stream", "describe", "clicks"])).stdout);
    assert.equal(described.Shards.length, 2);
    assert.equal(
      described.ShardStats.reduce((n: number, s: { RecordCount: number }) => n + s.RecordCount, 0),
      4,
    );

    const deleted = await cli(["stream", "delete", "clicks"]);
    assert.equal(deleted.stdout.trim(), "deleted stream clicks");
    assert.doesNotMatch((await cli(["stream", "list"])).stdout, /clicks/);
  });

  it("reports refused records and bad flags clearly, and has help with examples", async () => {
    await cli(["stream", "create", "errors"]);
    const big = path.join(dir, "big.bin");
    fs.writeFileSync(big, Buffer.alloc(1_048_577, 0x61));
    const checks: [string[], RegExp][] = [
      [
        ["stream", "put", "errors", "--partition-key", "k".repeat(257), "--data", "x"],
        /record 1 refused: PartitionKey must be 1\.\.256 characters, got 257/,
      ],
      [
        ["stream", "put", "errors", "--partition-key", "k", "--file", big],
        /record 1 refused: record is 1048578 bytes \(partition key \+ data\), more than 1048576/,
      ],
      [
        ["stream", "create", "x", "--shards", "0"],
        /option '--shards <n>' argument '0' is invalid\. must be an integer from 1 to 64/,
      ],
      [["stream", "put", "errors", "--data", "x"], /required option '--partition-key <key>' not specified/],
      [["stream", "get", "errors", "--from", "yesterday"], /unknown read position "yesterday"/],
    ];
    // Runs that open the state folder go one at a time (one process may hold it); the others,
    // refused while parsing flags, side by side to keep the test short.
    const results = [];
    for (const [args] of checks.slice(0, 2)) results.push(await cli(args));
    const [help, ...rest] = await Promise.all([
      cli(["stream", "get", "--help"]),
      ...checks.slice(2).map(([args]) => cli(args)),
    ]);
    results.push(...rest);
    results.forEach((result, i) => {
      assert.notEqual(result.code, 0, checks[i]![0].join(" "));
      assert.match(result.stderr, checks[i]![1], checks[i]![0].join(" "));
    });
    assert.equal(help!.code, 0);
    assert.match(help!.stdout, /Examples:\n {2}hourglass stream get airflow-timestream --limit 5/);
  });
});

describe("hourglass stream (over HTTP, while a server runs)", () => {
  const dir = tempDir();
  let streams: StreamService;
  let store: TimestreamStore;
  let server: RunningHttpServer;
  let serverLock: ProcessLock | undefined;
  const cli = (args: string[], input?: string) => runCli(["--state-dir", dir, ...args], { input });

  before(async () => {
    // This process holds the state folder, as `hourglass up` does: the CLI cannot open it itself.
    streams = await openStreamService({ dir, sweepIntervalMs: 0 });
    store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
    server = await startHttpServer(createApp({ store, stream: streams }), { port: 0 });
    // What `hourglass up` does: hold the server lock, then leave server.json for the CLI.
    serverLock = await acquireServerLock(dir);
    writeServerInfo(dir, { pid: process.pid, url: server.url, startedAt: new Date().toISOString() });
  });
  after(async () => {
    removeServerInfo(dir);
    await serverLock?.release();
    await server.close();
    await streams.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates, puts and gets through the server's REST API", async () => {
    assert.equal((await cli(["stream", "create", "remote", "--shards", "1"])).code, 0);
    assert.deepEqual(await streams.listStreams(), ["remote"], "the server's stream service has it");
    const put = await cli(["stream", "put", "remote", "--partition-key", "k", "--lines"], "a\nb\n");
    assert.equal(lines(put.stdout).length, 2, put.stderr);
    const got = await cli(["stream", "get", "remote"]);
    assert.deepEqual(
      lines(got.stdout).map((l) => JSON.parse(l).Data),
      ["a", "b"],
    );
    const missing = await cli(["stream", "describe", "nope"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error: stream nope not found/);
  });

  it("follows new records until Ctrl+C", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "--state-dir", dir, "stream", "get", "remote", "--from", "latest", "--follow"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    const seen = new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('"Data":"live"')) resolve();
      });
    });
    // Put until the follower prints it: it may not be waiting yet when the first put lands.
    const deadline = Date.now() + 30_000;
    let done = false;
    void seen.then(() => {
      done = true;
    });
    while (!done && Date.now() < deadline) {
      await streams.putRecords("remote", [{ Data: Buffer.from("live"), PartitionKey: "k" }]);
      await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 500))]);
    }
    assert.ok(done, "the follower printed the new record");
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });
});
