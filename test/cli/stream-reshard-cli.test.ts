/** `hourglass stream split|merge|reshard`, spawned as a user runs them: on the state folder, then over HTTP. */
import assert from "node:assert/strict";
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
import { runCli } from "../support/cli.js";

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-reshard-"));
const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");
const open = (d: { Shards: { ShardId: string; SequenceNumberRange: { EndingSequenceNumber?: string } }[] }) =>
  d.Shards.filter((s) => s.SequenceNumberRange.EndingSequenceNumber === undefined).map((s) => s.ShardId);

describe("hourglass stream split, merge, reshard (on the state folder)", () => {
  const dir = tempDir();
  const cli = (args: string[], input?: string) => runCli(["--state-dir", dir, ...args], { input });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("splits at the middle, merges, reshards, and gets every record through the lineage", async () => {
    assert.equal((await cli(["stream", "create", "s", "--shards", "2"])).code, 0);
    const put = (prefix: string) =>
      cli(["stream", "put", "s", "--partition-key", `${prefix}-key`, "--lines"], `${prefix}1\n${prefix}2\n`);
    assert.equal((await put("a")).code, 0);
    const split = await cli(["stream", "split", "s", "0"]);
    assert.equal(split.code, 0, split.stderr);
    const afterSplit = JSON.parse(split.stdout);
    assert.deepEqual(open(afterSplit), [
      "shardId-000000000001",
      "shardId-000000000002",
      "shardId-000000000003",
    ]);
    assert.equal(afterSplit.Shards[2].ParentShardId, "shardId-000000000000");
    // The middle of shard 0's range [0, 2^127 - 1].
    assert.equal(afterSplit.Shards[3].HashKeyRange.StartingHashKey, (1n << 126n).toString());
    assert.equal((await put("b")).code, 0);
    const merged = await cli(["stream", "merge", "s", "3", "shardId-000000000001"]);
    assert.equal(merged.code, 0, merged.stderr);
    const afterMerge = JSON.parse(merged.stdout);
    assert.deepEqual(open(afterMerge), ["shardId-000000000002", "shardId-000000000004"]);
    assert.equal(afterMerge.Shards[4].AdjacentParentShardId, "shardId-000000000001");
    const reshard = await cli(["stream", "reshard", "s", "--shards", "3"]);
    assert.equal(reshard.code, 0, reshard.stderr);
    assert.deepEqual(JSON.parse(reshard.stdout), {
      StreamName: "s",
      StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s",
      CurrentShardCount: 2,
      TargetShardCount: 3,
    });
    assert.equal((await cli(["stream", "update-shard-count", "s", "--shards", "4"])).code, 0);
    assert.equal((await put("c")).code, 0);
    const listed = await cli(["stream", "list"]);
    assert.match(listed.stdout, /\ns\s+4\s+24\s/, "open shards");
    const got = await cli(["stream", "get", "s"]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(
      lines(got.stdout)
        .map((l) => JSON.parse(l).Data)
        .sort(),
      ["a1", "a2", "b1", "b2", "c1", "c2"],
    );
  });

  it("refuses bad reshards with what was wrong, and has help with examples", async () => {
    assert.equal((await cli(["stream", "create", "bad", "--shards", "2"])).code, 0);
    const checks: [string[], RegExp][] = [
      [["stream", "split", "bad", "0", "--at", "0"], /NewStartingHashKey 0 must be in 1\.\./],
      [["stream", "split", "bad", "x"], /must be a shard id/],
      [["stream", "split", "bad", "9"], /shard shardId-000000000009 is not in stream bad/],
      [["stream", "merge", "bad", "0", "0"], /are both shardId-000000000000/],
      [["stream", "reshard", "bad", "--shards", "5"], /at most double its shard count/],
      [["stream", "reshard", "bad"], /required option '--shards <n>'/],
      [["stream", "reshard", "nope", "--shards", "2"], /stream nope not found/],
    ];
    for (const [args, message] of checks) {
      const result = await cli(args);
      assert.notEqual(result.code, 0, args.join(" "));
      assert.match(result.stderr, message, args.join(" "));
    }
    assert.equal((await cli(["stream", "split", "bad", "0"])).code, 0);
    const closed = await cli(["stream", "merge", "bad", "0", "1"]);
    assert.match(closed.stderr, /already been merged or split/);
    for (const command of ["split", "merge", "reshard"]) {
      const help = await cli(["stream", command, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Examples?:\n {2}hourglass stream /, command);
    }
  });
});

describe("hourglass stream reshard (over HTTP, while a server runs)", () => {
  const dir = tempDir();
  let streams: StreamService;
  let store: TimestreamStore;
  let server: RunningHttpServer;
  let serverLock: ProcessLock | undefined;
  const cli = (args: string[]) => runCli(["--state-dir", dir, ...args]);

  before(async () => {
    streams = await openStreamService({ dir, sweepIntervalMs: 0 });
    store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
    server = await startHttpServer(createApp({ store, stream: streams }), { port: 0 });
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

  it("splits, merges and reshards the server's stream through the REST API", async () => {
    await streams.createStream("remote", 1);
    assert.equal((await cli(["stream", "split", "remote", "0"])).code, 0);
    assert.equal((await streams.listShards("remote", { Type: "AT_LATEST" })).length, 2);
    assert.equal((await cli(["stream", "merge", "remote", "1", "2"])).code, 0);
    const reshard = await cli(["stream", "reshard", "remote", "--shards", "2"]);
    assert.equal(reshard.code, 0, reshard.stderr);
    assert.equal(JSON.parse(reshard.stdout).TargetShardCount, 2);
    const latest = await fetch(`${server.url}/api/v1/streams/remote/shards?filter=AT_LATEST`);
    assert.deepEqual(
      ((await latest.json()) as { Shards: { ShardId: string }[] }).Shards.map((s) => s.ShardId),
      ["shardId-000000000004", "shardId-000000000005"],
    );
    const badFilter = await fetch(`${server.url}/api/v1/streams/remote/shards?filter=SOMETIME`);
    assert.equal(badFilter.status, 400);
    const tooMany = await cli(["stream", "reshard", "remote", "--shards", "5"]);
    assert.notEqual(tooMany.code, 0);
    assert.match(tooMany.stderr, /at most double/);
  });
});
