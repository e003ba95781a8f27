/**
 * A 50 MB file through the S3 endpoint with the official clients, multipart both ways: `aws s3 cp`
 * up and down (8 MiB parts and ranged GETs, set by a config file of the test's own), and boto3's
 * `upload_file` / `download_file` with the same part size, for each boto3 there is (the first
 * python3 on PATH, and Debian's /usr/bin/python3 when it has boto3). The bytes come back with the
 * same SHA-256, the object has S3's multipart ETag, and the server (in this process) never holds
 * more than a few MiB of the file at once: parts stream to files in the lake's staging area, and
 * downloads stream from the object's file.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { SeededRandom } from "../../src/loadgen/index.js";
import { tempDir } from "../support/store.js";
import { credentials } from "./helpers.js";
import { type S3TestServer, startS3TestServer, tempFiles } from "./s3-helpers.js";

const MiB = 1024 * 1024;
const FILE_BYTES = 50 * MiB + 12_345;
const PART_BYTES = 8 * MiB;
const PARTS = Math.ceil(FILE_BYTES / PART_BYTES);
/**
 * What the server may hold of the file at once: less than the 7 parts the CLI sends at once, had
 * each been buffered whole (with that done on purpose, 70-85 MiB). Streaming, it held 2-20 MiB
 * at load 20-30, and once 45 MiB at load 35 (docs/benchmarks.md): a coarse check, by design.
 */
const MAX_HELD_BYTES = PARTS * PART_BYTES;

/** Checks a peakHeldBytes figure and describes it. */
function checkHeld(held: number, what: string): string {
  assert.ok(held < MAX_HELD_BYTES, `the server held ${held} bytes at once during ${what}`);
  return `${what}: held at most ${(held / MiB).toFixed(1)} MiB`;
}

/** `bytes` of a seeded pseudo-random sequence (incompressible, the same on every run). */
function seededFile(file: string, bytes: number, seed: number): string {
  const random = new SeededRandom(seed);
  const data = Buffer.allocUnsafe(bytes);
  const words = new Uint32Array(data.buffer, data.byteOffset, Math.floor(bytes / 4));
  for (let i = 0; i < words.length; i++) words[i] = random.nextUint32();
  for (let i = words.length * 4; i < bytes; i++) data[i] = random.nextUint32() & 0xff;
  fs.writeFileSync(file, data);
  return createHash("sha256").update(data).digest("hex");
}

function fileSha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/**
 * The most live ArrayBuffer memory (where request and response bodies live) this process held
 * above its level before `work`, sampled every `intervalMs`. Each sample follows two collections
 * of the young generation (stream chunks die young; the second collection waits for the first's
 * freeing to finish, without which dead buffers still count). A sample above `confirmAboveBytes`
 * may be old garbage: it is taken again after two full collections, which cost 100-400 ms on the
 * loaded machine (they stall the server under test, so they are not the rule).
 */
async function peakHeldBytes(
  work: () => Promise<unknown>,
  intervalMs = 50,
  confirmAboveBytes = 8 * MiB,
): Promise<number> {
  v8.setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (options?: { type: "minor" | "major" }) => void;
  const held = (type: "minor" | "major") => {
    gc({ type });
    gc({ type });
    return process.memoryUsage().arrayBuffers;
  };
  const base = held("major");
  let peak = 0;
  const timer = setInterval(() => {
    let bytes = held("minor") - base;
    if (bytes > confirmAboveBytes) bytes = held("major") - base;
    peak = Math.max(peak, bytes);
  }, intervalMs);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return peak;
}

function commandOutput(command: string, args: string[]): string | null {
  const probe = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, AWS_PAGER: "" } });
  return probe.status === 0 ? `${probe.stdout}${probe.stderr}`.trim() : null;
}

const pathAws = spawnSync("sh", ["-c", "command -v aws"], { encoding: "utf8" }).stdout.trim();
const awsClis = [...new Set([pathAws, "/usr/bin/aws"].filter((aws) => aws !== "" && fs.existsSync(aws)))];
const pathPython = spawnSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).stdout.trim();
const pythons = [...new Set([pathPython, "/usr/bin/python3"].filter((p) => p !== "" && fs.existsSync(p)))];

const BOTO3_SCRIPT = `
import sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, key, secret, source, target, part = sys.argv[1:7]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                  aws_secret_access_key=secret,
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
transfer = TransferConfig(multipart_threshold=int(part), multipart_chunksize=int(part))
s3.upload_file(source, "large", "boto3/file.bin", Config=transfer)
s3.download_file("large", "boto3/file.bin", target, Config=transfer)
print(s3.head_object(Bucket="large", Key="boto3/file.bin")["ETag"])
`;

describe("S3 endpoint: a 50 MB file up and down, multipart, with the AWS CLI and boto3", () => {
  let t: S3TestServer;
  let work: string;
  let source: string;
  let sourceSha: string;

  before(async () => {
    t = await startS3TestServer();
    await t.lake.createBucket("large");
    work = tempDir("hg-s3-large-");
    source = path.join(work, "file.bin");
    sourceSha = seededFile(source, FILE_BYTES, 20_260_912);
  });
  after(async () => {
    await t?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const objectFile = (key: string) => path.join(t.lakeDir, "large", ...key.split("/"));

  for (const aws of awsClis) {
    const version = commandOutput(aws, ["--version"]);
    const skip = version === null ? `${aws} --version fails` : false;
    it(`aws s3 cp up and down (${aws}, ${version?.split(" ")[0] ?? "?"})`, { skip }, async (c) => {
      const home = fs.mkdtempSync(path.join(work, "aws-"));
      const config = path.join(home, "config");
      // The machine's own config plays no part; 8 MiB parts so that both directions are multipart
      // for sure (50 MB is 7 parts up, 7 ranged GETs down).
      fs.writeFileSync(
        config,
        `[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  multipart_threshold = ${PART_BYTES / MiB}MB\n  multipart_chunksize = ${PART_BYTES / MiB}MB\n`,
      );
      const env = {
        PATH: process.env["PATH"],
        HOME: home,
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, "no-credentials"),
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_PAGER: "",
      };
      const run = (...args: string[]) =>
        promisify(execFile)(aws, ["--endpoint-url", t.server.url, ...args], { env, timeout: 120_000 });
      const key = `cli-${path.basename(home)}/file.bin`;
      const down = path.join(home, "down.bin");
      const upHeld = await peakHeldBytes(() => run("s3", "cp", source, `s3://large/${key}`));
      const downHeld = await peakHeldBytes(() => run("s3", "cp", `s3://large/${key}`, down));

      assert.equal(fileSha256(down), sourceSha, "the file came back byte for byte");
      assert.equal(fileSha256(objectFile(key)), sourceSha, "the lake holds the file byte for byte");
      const head = await t.lake.headObject("large", key);
      assert.equal(head?.size, FILE_BYTES);
      assert.match(
        head?.etag ?? "",
        new RegExp(`^[0-9a-f]{32}-${PARTS}$`),
        `a multipart ETag of ${PARTS} parts`,
      );
      c.diagnostic(checkHeld(upHeld, "the upload"));
      c.diagnostic(checkHeld(downHeld, "the download"));
      assert.deepEqual(tempFiles(t.lakeDir), [], "no staged part is left behind");
    });
  }
  if (awsClis.length === 0) {
    it("aws s3 cp up and down", { skip: "no AWS CLI: neither `aws` on PATH nor /usr/bin/aws" }, () => {});
  }

  for (const python of pythons) {
    const version = commandOutput(python, ["-c", "import boto3; print(boto3.__version__)"]);
    const skip = version === null ? `${python} has no boto3` : false;
    it(`boto3 upload_file and download_file (${python}, boto3 ${version ?? "?"})`, { skip }, async (c) => {
      const down = path.join(work, `boto3-${path.basename(path.dirname(python))}.bin`);
      let etag = "";
      const held = await peakHeldBytes(async () => {
        const { stdout } = await promisify(execFile)(
          python,
          [
            "-c",
            BOTO3_SCRIPT,
            t.server.url,
            credentials.accessKeyId,
            credentials.secretAccessKey,
            source,
            down,
            String(PART_BYTES),
          ],
          { timeout: 120_000 },
        );
        etag = stdout.trim();
      });
      assert.equal(fileSha256(down), sourceSha, "the file came back byte for byte");
      assert.match(etag, new RegExp(`^"[0-9a-f]{32}-${PARTS}"$`), `a multipart ETag of ${PARTS} parts`);
      c.diagnostic(checkHeld(held, "the upload and the download"));
      assert.deepEqual(tempFiles(t.lakeDir), [], "no staged part is left behind");
    });
  }
  if (pythons.length === 0) {
    it("boto3 upload_file and download_file", {
      skip: "no python3 on PATH and no /usr/bin/python3",
    }, () => {});
  }
});
