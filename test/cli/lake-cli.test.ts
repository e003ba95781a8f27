/**
 * `hourglass lake …`, spawned as a user runs it: on the lake folder, then through a running
 * `hourglass up` runtime whose lake is elsewhere (so only the server could have done the work).
 * The same scenario runs both ways.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/config.js";
import { type Lake, openLocalLake } from "../../src/lake/index.js";
import { silentLog } from "../../src/log/index.js";
import { createExportService, type ExportToLakeRequest } from "../../src/operators/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { TimestreamStore } from "../../src/store/index.js";
import { BIN, type CliResult, runCli } from "../support/cli.js";

const bucket = "demo-airflow-ts-output";
const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function exportRequest(key: string): ExportToLakeRequest {
  return {
    query: "SELECT 'host-0' AS instance_name, 1.5 AS avg_cpu UNION ALL SELECT 'host-1', 2.5 ORDER BY 1",
    bucket,
    key,
    format: "csv",
    emptyResult: "fail",
    provenance: {
      dagId: "timestream-airflow-demo",
      taskId: "ts_query",
      runId: "scheduled__2021-09-22T13:00:00+00:00",
      tryNumber: 1,
      dataIntervalStart: "2021-09-22T13:00:00+00:00",
      dataIntervalEnd: "2021-09-22T14:00:00+00:00",
      codeVersion: "abc123",
    },
  };
}

function ok(result: CliResult, what: string): string {
  assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  return result.stdout;
}

function refused(result: CliResult, message: RegExp, what: string): void {
  assert.equal(result.code, 2, `${what} exits 2; stdout: ${result.stdout}`);
  assert.match(result.stderr, message, what);
}

/**
 * The scenario: `cli` runs the binary on the state folder, `lake` is where the objects must land,
 * `exportTo` makes a real export (a file and its manifest) in the bucket. Runs that do not depend
 * on each other go side by side, in a few stages, to keep the test short on a busy machine.
 */
async function scenario(
  cli: (args: string[], input?: string) => Promise<CliResult>,
  lake: Lake,
  work: string,
  exportTo: (key: string) => Promise<void>,
): Promise<void> {
  assert.equal(ok(await cli(["lake", "mb", bucket]), "mb"), `make_bucket: ${bucket}\n`);
  assert.deepEqual(await lake.listBuckets(), [bucket]);

  // Stage 1. Refused: the bucket again, a bad name, a key with .., a missing object. Into the
  // lake: s3:// and lake:// both name it; a destination ending in / takes the file's name.
  const csv = `instance_name,avg_cpu\n${Array.from({ length: 20_000 }, (_, i) => `host-${i},${i % 100}.5`).join("\n")}\n`;
  const local = path.join(work, "my_file.csv");
  fs.writeFileSync(local, csv);
  const [again, badName, dotdot, rmDotdot, absent, up, upLake] = await Promise.all([
    cli(["lake", "mb", bucket]),
    cli(["lake", "mb", "Demo_Bucket"]),
    cli(["lake", "cp", local, `s3://${bucket}/2021-09-22-13/../../escape.csv`]),
    cli(["lake", "rm", `${bucket}/a/../b.csv`]),
    cli(["lake", "cat", `${bucket}/2021-09-22-99/my_file.csv`]),
    cli(["lake", "cp", local, `s3://${bucket}/2021-09-22-12/`]),
    cli(["lake", "cp", local, `lake://${bucket}/notes/hosts.csv`]),
  ]);
  refused(again, /^error: bucket demo-airflow-ts-output already exists\n$/, "mb twice");
  refused(badName, /^error: invalid bucket name "Demo_Bucket": use lowercase letters/, "a bad bucket name");
  refused(
    dotdot,
    /error: invalid object key "2021-09-22-13\/..\/..\/escape.csv": it contains a .. segment/,
    "a .. key",
  );
  refused(
    rmDotdot,
    /^error: invalid object key "a\/..\/b.csv": it contains a .. segment\n$/,
    "rm of a .. key",
  );
  refused(
    absent,
    /error: object s3:\/\/demo-airflow-ts-output\/2021-09-22-99\/my_file.csv does not exist/,
    "cat of a missing object",
  );
  assert.equal(ok(up, "cp up"), `upload: ${local} to s3://${bucket}/2021-09-22-12/my_file.csv\n`);
  ok(upLake, "cp up with lake://");
  assert.equal((await lake.headObject(bucket, "2021-09-22-12/my_file.csv"))?.contentType, "text/csv");
  assert.equal(Buffer.from(await lake.getObject(bucket, "notes/hosts.csv")).toString(), csv);
  await exportTo("2021-09-22-13/my_file.csv");
  const exported = Buffer.from(await lake.getObject(bucket, "2021-09-22-13/my_file.csv"));
  const manifest = JSON.parse(
    Buffer.from(await lake.getObject(bucket, "2021-09-22-13/my_file.csv.manifest.json")).toString(),
  );

  // Stage 2. Listing, reading, downloading, manifests, and the deletes that must be refused.
  const down = path.join(work, "down");
  fs.mkdirSync(down);
  const tree = path.join(work, "tree");
  const [buckets, top, inside, all, cat, dash, download, downloadTree, text, json, none, rmMissing, rbFull] =
    await Promise.all([
      cli(["lake", "ls"]),
      cli(["lake", "ls", bucket]),
      cli(["lake", "ls", `s3://${bucket}/2021-09-22-13/`]),
      cli(["lake", "ls", bucket, "--recursive", "--human-readable", "--summarize"]),
      cli(["lake", "cat", `${bucket}/2021-09-22-12/my_file.csv`]),
      cli(["lake", "cp", `s3://${bucket}/notes/hosts.csv`, "-"]),
      cli(["lake", "cp", `s3://${bucket}/2021-09-22-13/my_file.csv`, down]),
      cli(["lake", "cp", `s3://${bucket}/2021-09-22-13`, tree, "--recursive"]),
      cli(["lake", "manifest", `${bucket}/2021-09-22-13/my_file.csv`]),
      cli(["lake", "manifest", `s3://${bucket}/2021-09-22-13/my_file.csv`, "--format", "json", "--verify"]),
      cli(["lake", "manifest", `${bucket}/notes/hosts.csv`]),
      cli(["lake", "rm", `${bucket}/2021-09-22-99/my_file.csv`]),
      cli(["lake", "rb", bucket]),
    ]);
  assert.equal(ok(buckets, "ls"), `${bucket}\n`);
  assert.equal(
    ok(top, "ls bucket"),
    ["2021-09-22-12/", "2021-09-22-13/", "notes/"].map((p) => `${" ".repeat(27)}PRE ${p}\n`).join(""),
  );
  const insideLines = ok(inside, "ls prefix").trimEnd().split("\n");
  assert.equal(insideLines.length, 2);
  assert.match(
    insideLines[0]!,
    new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d {1,10}${exported.length} my_file.csv$`),
  );
  assert.match(insideLines[1]!, / my_file\.csv\.manifest\.json$/);
  const allText = ok(all, "ls --recursive");
  assert.match(allText, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {1,10}\d+\.\d KiB 2021-09-22-12\/my_file\.csv$/m);
  assert.match(allText, / {0,9}\d+ Bytes 2021-09-22-13\/my_file\.csv$/m);
  assert.match(allText, /\n\nTotal Objects: 4\n {3}Total Size: \d+\.\d KiB\n$/);
  assert.equal(ok(cat, "cat"), csv);
  assert.equal(ok(dash, "cp to -"), csv);
  assert.equal(
    ok(download, "cp down"),
    `download: s3://${bucket}/2021-09-22-13/my_file.csv to ${path.join(down, "my_file.csv")}\n`,
  );
  assert.ok(fs.readFileSync(path.join(down, "my_file.csv")).equals(exported));
  ok(downloadTree, "cp down --recursive");
  assert.deepEqual(fs.readdirSync(tree).sort(), ["my_file.csv", "my_file.csv.manifest.json"]);
  assert.match(ok(text, "manifest"), /^file {14}s3:\/\/demo-airflow-ts-output\/2021-09-22-13\/my_file.csv\n/);
  assert.match(text.stdout, /^rows {14}2$/m);
  assert.match(text.stdout, new RegExp(`^sha256 {12}${sha256(exported)}$`, "m"));
  assert.match(text.stdout, /^run {15}scheduled__2021-09-22T13:00:00\+00:00, try 1$/m);
  assert.match(text.stdout, /^query\n {2}SELECT 'host-0'/m);
  assert.deepEqual(JSON.parse(ok(json, "manifest --format json")), manifest);
  assert.match(
    json.stderr,
    /^verified: s3:\/\/demo-airflow-ts-output\/2021-09-22-13\/my_file.csv has the manifest's \d+ bytes and sha256\n$/,
  );
  refused(
    none,
    /error: s3:\/\/demo-airflow-ts-output\/notes\/hosts.csv has no manifest \(.*\.manifest\.json does not exist\)/,
    "a file without one",
  );
  refused(
    rmMissing,
    /error: object s3:\/\/demo-airflow-ts-output\/2021-09-22-99\/my_file.csv does not exist/,
    "rm missing",
  );
  refused(
    rbFull,
    /^error: bucket demo-airflow-ts-output is not empty \(4 objects\): delete its objects first \(hourglass lake rm s3:\/\/demo-airflow-ts-output\/ --recursive\), or run hourglass lake rb demo-airflow-ts-output --force\n$/,
    "rb of a bucket with objects",
  );
  assert.equal((await lake.listObjects(bucket)).objects.length, 4, "nothing was deleted");

  // Stage 3. A folder back in, the export overwritten, one object deleted.
  const [upTree, overwrite, rm] = await Promise.all([
    cli(["lake", "cp", tree, `s3://${bucket}/copy`, "--recursive"]),
    cli(["lake", "cp", local, `s3://${bucket}/2021-09-22-13/my_file.csv`]),
    cli(["lake", "rm", `${bucket}/notes/hosts.csv`]),
  ]);
  ok(upTree, "cp up --recursive");
  assert.deepEqual(
    (await lake.listObjects(bucket, { prefix: "copy/" })).objects.map((o) => o.key),
    ["copy/my_file.csv", "copy/my_file.csv.manifest.json"],
  );
  ok(overwrite, "overwrite the export");
  assert.equal(ok(rm, "rm"), `delete: s3://${bucket}/notes/hosts.csv\n`);

  // Stage 4. A file that no longer matches its manifest is reported, not passed; a prefix deleted.
  const [mismatch, rmTree] = await Promise.all([
    cli(["lake", "manifest", `${bucket}/2021-09-22-13/my_file.csv`, "--verify"]),
    cli(["lake", "rm", `s3://${bucket}/copy`, "--recursive"]),
  ]);
  refused(
    mismatch,
    /error: s3:\/\/demo-airflow-ts-output\/2021-09-22-13\/my_file.csv does not match its manifest \(file: \d+ bytes/,
    "a file changed after its export",
  );
  assert.equal(
    ok(rmTree, "rm --recursive"),
    `delete: s3://${bucket}/copy/my_file.csv\ndelete: s3://${bucket}/copy/my_file.csv.manifest.json\n`,
  );

  // Stage 5. rb --force empties the bucket, then removes it.
  const forced = ok(await cli(["lake", "rb", bucket, "--force"]), "rb --force");
  assert.match(
    forced,
    /^delete: s3:\/\/demo-airflow-ts-output\/2021-09-22-12\/my_file.csv\n(delete: .*\n){2}remove_bucket: demo-airflow-ts-output\n$/,
  );
  assert.deepEqual(await lake.listBuckets(), []);
}

describe("hourglass lake (on the lake folder)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-lake-"));
  const stateDir = path.join(dir, "state");
  const cli = (args: string[], input?: string) =>
    runCli(["--state-dir", stateDir, ...args], { input, cwd: dir });
  let store: TimestreamStore;
  after(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("makes buckets, copies in and out, lists, prints, reads manifests, deletes; refuses bad input", async () => {
    const lake = openLocalLake(path.join(stateDir, "lake"));
    // The export runs in this process on its own store; the CLI only opens the lake folder.
    store = await TimestreamStore.open({ dir: path.join(dir, "store"), sweepIntervalMs: 0, threads: 1 });
    const exports = createExportService({ store, lake });
    await scenario(cli, lake, dir, async (key) => {
      await exports.exportToLake(exportRequest(key));
    });
  });

  it("cat stops quietly, exit 0, when its reader goes away (| head)", async () => {
    const lake = openLocalLake(path.join(stateDir, "lake"));
    await lake.createBucket("piped");
    await lake.putObject("piped", "big.csv", "x,y\n".repeat(500_000));
    const child = spawn(process.execPath, [BIN, "--state-dir", stateDir, "lake", "cat", "piped/big.csv"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // The first bytes arrive, then the reader goes, as `head` does.
    await once(child.stdout, "data");
    child.stdout.destroy();
    const [code] = await once(child, "exit");
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });

  it("has help with examples, and says what is wrong with a copy between two local files", async () => {
    const results = await Promise.all(["cp", "manifest"].map((command) => cli(["lake", command, "--help"])));
    for (const result of results) {
      assert.equal(result.code, 0);
      assert.match(result.stdout, /Examples:\n {2}hourglass lake /);
    }
    const usage = await cli(["lake", "cp", "a.csv", "b.csv"]);
    refused(
      usage,
      /error: neither "a.csv" nor "b.csv" is a lake path: write one as s3:\/\/BUCKET\/KEY/,
      "cp between two local files",
    );
  });
});

describe("hourglass lake (over HTTP, while hourglass up runs)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-cli-lake-up-"));
  const stateDir = path.join(dir, "state");
  let runtime: HourglassRuntime;
  const cli = (args: string[], input?: string) =>
    runCli(["--state-dir", stateDir, ...args], { input, cwd: dir });

  before(async () => {
    fs.mkdirSync(path.join(dir, "dags"));
    // The server's lake is not where the CLI would look on its own: only the server can find it.
    const config = resolveConfig({
      flags: { stateDir, dagsDir: path.join(dir, "dags"), lakeDir: path.join(dir, "server-lake"), port: 0 },
      env: {},
      cwd: dir,
    });
    runtime = await startHourglass(config, { scheduler: false, workers: 0, log: silentLog });
  });
  after(async () => {
    await runtime?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("does the same through the server's REST API", async () => {
    await scenario(cli, runtime.lake, dir, async (key) => {
      const response = await fetch(`${runtime.url}/api/v1/exports`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(exportRequest(key)),
      });
      assert.equal(response.status, 200, await response.text());
    });
    assert.ok(!fs.existsSync(path.join(stateDir, "lake")), "the CLI did not open a lake of its own");
  });
});
