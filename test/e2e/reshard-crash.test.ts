/**
 * kill -9 of the whole runtime while a stream is being resharded under load: after the restart
 * the stream has the old layout or the new one (never a mix), the managed connector resumes, and
 * the table holds every record put exactly once.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  CreateStreamCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  UpdateShardCountCommand,
} from "@aws-sdk/client-kinesis";
import { QueryCommand, TimestreamQueryClient } from "@aws-sdk/client-timestream-query";
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  TimestreamWriteClient,
} from "@aws-sdk/client-timestream-write";
import { HttpClient } from "../../src/api/client.js";
import { credentials, writeTestKey } from "../api/helpers.js";
import { tempDir } from "../support/store.js";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "runtime.ts");
const clientConfig = {
  region: "us-east-1",
  // The server checks signatures: the state folder gets this key before the first start.
  credentials,
  maxAttempts: 1,
};
const HOSTS = 16;
const PER_CALL = 80;

function startRuntime(stateDir: string, dagsDir: string): Promise<{ child: ChildProcess; url: string }> {
  if (!fs.existsSync(path.join(stateDir, "keys.json"))) {
    fs.mkdirSync(stateDir, { recursive: true });
    writeTestKey(stateDir);
  }
  const child = spawn(process.execPath, ["--import", "tsx", fixture, stateDir, dagsDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\S+)\n/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.on("exit", (code) =>
      reject(new Error(`the runtime exited (${code}) before it was ready: ${stderr}`)),
    );
  });
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, deadlineMs = 120_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("kill -9 while resharding under load", () => {
  const dir = tempDir("hg-reshard-crash-");
  const stateDir = path.join(dir, "state");
  const dagsDir = path.join(dir, "dags");
  fs.mkdirSync(dagsDir, { recursive: true });
  let child: ChildProcess | undefined;
  after(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the lineage whole and every record once in the table", async (t) => {
    let runtime = await startRuntime(stateDir, dagsDir);
    child = runtime.child;
    let kinesis = new KinesisClient({ ...clientConfig, endpoint: runtime.url });
    const write = new TimestreamWriteClient({ ...clientConfig, endpoint: runtime.url });
    await write.send(new CreateDatabaseCommand({ DatabaseName: "reshard-db" }));
    await write.send(
      new CreateTableCommand({
        DatabaseName: "reshard-db",
        TableName: "reshard-table",
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
      }),
    );
    write.destroy();
    await kinesis.send(new CreateStreamCommand({ StreamName: "load", ShardCount: 2 }));
    await new HttpClient(runtime.url).call("POST", "/api/v1/connectors", {
      name: "load",
      stream: "load",
      database: "reshard-db",
      table: "reshard-table",
      batchSize: 1_000,
      maxDelayMs: 50,
    });

    // Host h's n-th record: unique by (host, time). A call that fails (the kill) is put again,
    // unchanged, after the restart: the table takes a record stored twice as one.
    const baseS = Math.floor(Date.now() / 1000) - 3_600;
    const counters = new Array<number>(HOSTS).fill(0);
    let generated = 0;
    const nextCall = (): PutRecordsRequestEntry[] =>
      Array.from({ length: PER_CALL }, (_, i) => {
        const host = i % HOSTS;
        const n = counters[host]!++;
        generated++;
        const payload = {
          MeasureName: "seq",
          MeasureValue: String(n),
          MeasureValueType: "DOUBLE",
          Time: String(baseS + n),
          TimeUnit: "SECONDS",
          host: `host-${host}`,
        };
        return { PartitionKey: `host-${host}`, Data: Buffer.from(JSON.stringify(payload)) };
      });
    let acknowledged = 0;
    const putUntil = async (count: number) => {
      while (acknowledged < count) {
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: "load", Records: nextCall() }));
        assert.equal(out.FailedRecordCount, 0);
        acknowledged += PER_CALL;
      }
    };

    await putUntil(1_600);
    await kinesis.send(
      new UpdateShardCountCommand({
        StreamName: "load",
        TargetShardCount: 4,
        ScalingType: "UNIFORM_SCALING",
      }),
    );
    await putUntil(3_200);

    /**
     * Puts in flight and UpdateShardCount sent; the runtime is killed when `trigger` names a file
     * the reshard touches in the stream's folder. Restarted, the stream must have `expectOpen`
     * open shards covering every hash key once; the unacknowledged puts are put again.
     */
    const killDuring = async (target: number, trigger: RegExp, expectOpen: number, label: string) => {
      const streamDir = path.join(stateDir, "streams", "load");
      const touched = new Promise<void>((resolve) => {
        const watcher = fs.watch(streamDir, (_event, name) => {
          if (name !== null && trigger.test(String(name))) {
            watcher.close();
            resolve();
          }
        });
      });
      const inFlight = nextCall();
      const puts = kinesis
        .send(new PutRecordsCommand({ StreamName: "load", Records: inFlight }))
        .catch(() => null);
      const reshard = kinesis
        .send(
          new UpdateShardCountCommand({
            StreamName: "load",
            TargetShardCount: target,
            ScalingType: "UNIFORM_SCALING",
          }),
        )
        .catch(() => null);
      await touched;
      runtime.child.kill("SIGKILL");
      await once(runtime.child, "exit");
      const [putResult] = await Promise.all([puts, reshard]);
      kinesis.destroy();

      runtime = await startRuntime(stateDir, dagsDir);
      child = runtime.child;
      kinesis = new KinesisClient({ ...clientConfig, endpoint: runtime.url });
      if (putResult === null)
        await kinesis.send(new PutRecordsCommand({ StreamName: "load", Records: inFlight }));
      acknowledged += PER_CALL;

      const all = (await kinesis.send(new ListShardsCommand({ StreamName: "load" }))).Shards!;
      const open = all.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      t.diagnostic(
        `${label}: ${open.length} open shards after the restart; puts in flight ${putResult === null ? "unacknowledged" : "acknowledged"}`,
      );
      assert.equal(open.length, expectOpen, label);
      let next = 0n;
      for (const s of open.sort((a, b) =>
        BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
      )) {
        assert.equal(BigInt(s.HashKeyRange!.StartingHashKey!), next, label);
        next = BigInt(s.HashKeyRange!.EndingHashKey!) + 1n;
      }
      assert.equal(next, 1n << 128n, label);
    };

    // Killed once the first child folder exists, before stream.json changed: the old layout.
    await killDuring(3, /^shardId-0+([6-9]|\d\d+)$/, 4, "killed while making the children");
    await putUntil(acknowledged + 800);
    // Killed right after stream.json was replaced (the switch): the new layout.
    await killDuring(3, /^stream\.json$/, 3, "killed right after the switch");
    await putUntil(acknowledged + 1_600);

    // The managed connector resumed after its checkpoint and catches up.
    const query = new TimestreamQueryClient({ ...clientConfig, endpoint: runtime.url });
    const count = async () => {
      const result = await query.send(
        new QueryCommand({ QueryString: 'SELECT count(*) FROM "reshard-db"."reshard-table"' }),
      );
      return Number(result.Rows![0]!.Data![0]!.ScalarValue);
    };
    await until(async () => ((await count()) >= generated ? true : undefined), "the connector catches up");
    assert.equal(await count(), generated, "every record once");
    const duplicates = await query.send(
      new QueryCommand({
        QueryString:
          'SELECT host, time, count(*) FROM "reshard-db"."reshard-table" GROUP BY host, time HAVING count(*) > 1',
      }),
    );
    assert.equal(duplicates.Rows?.length ?? 0, 0);
    const described = await new HttpClient(runtime.url).call<{
      state: string;
      lag: { records: number | null };
      shards: { shardId: string; closed?: boolean; finished?: boolean }[];
    }>("GET", "/api/v1/connectors/load");
    assert.equal(described.state, "running");
    assert.equal(described.lag.records, 0);
    query.destroy();
    kinesis.destroy();
    runtime.child.kill("SIGTERM");
    await once(runtime.child, "exit");
  });
});
