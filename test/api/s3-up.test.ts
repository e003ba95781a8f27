/**
 * `hourglass up` serves its lake as S3 on its one port: what the seed's S3 calls write lands in
 * the lake folder, and what an export writes there is readable with S3 calls.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { writeTestKey } from "./helpers.js";
import { s3Client } from "./s3-helpers.js";

describe("S3 on hourglass up", () => {
  let root: string;
  let runtime: HourglassRuntime;
  let s3: S3Client;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-s3-up-"));
    const config = resolveConfig({
      flags: { stateDir: path.join(root, "state"), dagsDir: path.join(root, "dags"), port: 0, workers: 1 },
      env: {},
      cwd: root,
    });
    writeTestKey(config.stateDir);
    runtime = await startHourglass(config, {
      scheduler: false,
      workers: 0,
      writeServerInfo: false,
      log: silentLog,
    });
    s3 = s3Client(runtime.url);
  });
  after(async () => {
    s3?.destroy();
    await runtime?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it("answers GET / with ListBuckets, and puts land in the lake folder", async () => {
    assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
    await s3.send(new CreateBucketCommand({ Bucket: "demo-airflow-ts-output" }));
    const csv = "measure_name,time,value\ncpu_user,2021-09-22 16:00:00,42.5\n";
    await s3.send(
      new PutObjectCommand({
        Bucket: "demo-airflow-ts-output",
        Key: "2021-09-22-16/my_file.csv",
        Body: csv,
        ContentType: "text/csv",
      }),
    );
    const onDisk = path.join(
      runtime.config.lakeDir,
      "demo-airflow-ts-output",
      "2021-09-22-16",
      "my_file.csv",
    );
    assert.equal(fs.readFileSync(onDisk, "utf8"), csv);

    await runtime.lake.putObject("demo-airflow-ts-output", "2021-09-22-17/my_file.csv", "from an export\n");
    const got = await s3.send(
      new GetObjectCommand({ Bucket: "demo-airflow-ts-output", Key: "2021-09-22-17/my_file.csv" }),
    );
    assert.equal(await got.Body!.transformToString(), "from an export\n");
  });
});
