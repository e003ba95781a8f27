/**
 * The S3 endpoint with boto3: upload_file / download_file big enough to go multipart (and ranged
 * downloads), paginated listing (boto3 asks for encoding-type=url), copy, deletes, errors. Run with
 * Debian's boto3 (/usr/bin/python3, 1.26) and, when the first python3 on PATH is another with
 * boto3, with that one too (recent boto3 sends an x-amz-checksum-crc32 with every upload over http,
 * which the endpoint verifies).
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { tempDir } from "../support/store.js";
import { credentials } from "./helpers.js";
import { randomContent, type S3TestServer, sha256, startS3TestServer, tempFiles } from "./s3-helpers.js";

function boto3Version(python: string): string | null {
  const probe = spawnSync(python, ["-c", "import boto3; print(boto3.__version__)"], { encoding: "utf8" });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

const DEBIAN_PYTHON = "/usr/bin/python3";
const pathPython = spawnSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).stdout.trim();
const pythons = [DEBIAN_PYTHON, ...(pathPython && pathPython !== DEBIAN_PYTHON ? [pathPython] : [])];

const SCRIPT = `
import hashlib, json, os, sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, key, secret, workdir = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                  aws_secret_access_key=secret,
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
def code(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None
out = {}

s3.create_bucket(Bucket="boto")
MiB = 1024 * 1024
# 5 MiB parts: the file (6 MiB) goes up as two parts; down as ranged GETs of 2 MiB.
s3.upload_file(os.path.join(workdir, "up.bin"), "boto", "dir/up.bin",
               Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2))
head = s3.head_object(Bucket="boto", Key="dir/up.bin")
out["etag"], out["size"] = head["ETag"], head["ContentLength"]
s3.download_file("boto", "dir/up.bin", os.path.join(workdir, "down.bin"),
                 Config=TransferConfig(multipart_threshold=2 * MiB, multipart_chunksize=2 * MiB, max_concurrency=2))
out["down_sha256"] = sha256(os.path.join(workdir, "down.bin"))

s3.put_object(Bucket="boto", Key="a b+c.txt", Body=b"hello", Metadata={"k": "v"}, ContentType="text/plain")
got = s3.get_object(Bucket="boto", Key="a b+c.txt", Range="bytes=1-3")
out["range"], out["content_range"], out["meta"] = got["Body"].read().decode(), got["ContentRange"], got["Metadata"]

for k in ["p/1", "p/2", "p/3", "q/1"]:
    s3.put_object(Bucket="boto", Key=k, Body=k.encode())
keys, prefixes, pages = [], [], 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="boto", Delimiter="/", PaginationConfig={"PageSize": 1}):
    pages += 1
    keys += [c["Key"] for c in page.get("Contents", [])]
    prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
out["keys"], out["prefixes"], out["pages"] = keys, prefixes, pages
out["under_p"] = [c["Key"] for c in s3.list_objects(Bucket="boto", Prefix="p/")["Contents"]]

s3.copy_object(Bucket="boto", Key="copy.txt", CopySource={"Bucket": "boto", "Key": "a b+c.txt"})
out["copy"] = s3.get_object(Bucket="boto", Key="copy.txt")["Body"].read().decode()
deleted = s3.delete_objects(Bucket="boto", Delete={"Objects": [{"Key": "p/1"}, {"Key": "p/2"}]})
out["deleted"] = sorted(d["Key"] for d in deleted["Deleted"])
s3.delete_object(Bucket="boto", Key="p/3")

out["no_such_key"] = code(lambda: s3.get_object(Bucket="boto", Key="missing"))
out["no_such_bucket"] = code(lambda: s3.list_objects_v2(Bucket="no-such-bucket"))
out["not_empty"] = code(lambda: s3.delete_bucket(Bucket="boto"))
out["bad_range"] = code(lambda: s3.get_object(Bucket="boto", Key="copy.txt", Range="bytes=100-"))
print(json.dumps(out))
`;

for (const python of pythons) {
  const version = fs.existsSync(python) ? boto3Version(python) : null;
  const skip =
    version === null
      ? `${python} has no boto3${python === DEBIAN_PYTHON ? " (install Debian's python3-boto3)" : ""}`
      : false;
  if (skip) console.log(`# skipping the S3 boto3 test with ${python}: ${skip}`);

  describe(`S3 endpoint with boto3 ${version ?? ""} (${python})`, { skip }, () => {
    let t: S3TestServer;
    let work: string;

    before(async () => {
      t = await startS3TestServer();
      work = tempDir("hg-s3-boto3-");
    });
    after(async () => {
      await t?.close();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("uploads and downloads a multipart file, lists, copies, deletes, and raises S3's errors", async () => {
      const content = randomContent(6 * 1024 * 1024 + 5);
      fs.writeFileSync(path.join(work, "up.bin"), content);
      const { stdout } = await promisify(execFile)(
        python,
        ["-c", SCRIPT, t.server.url, credentials.accessKeyId, credentials.secretAccessKey, work],
        { timeout: 120_000 },
      );
      const out = JSON.parse(stdout) as Record<string, unknown>;
      assert.match(
        String(out["etag"]),
        /^"[0-9a-f]{32}-2"$/,
        "a multipart ETag: the upload went in two parts",
      );
      assert.equal(out["size"], content.length);
      assert.equal(out["down_sha256"], sha256(content));
      assert.equal(out["range"], "ell");
      assert.equal(out["content_range"], "bytes 1-3/5");
      assert.deepEqual(out["meta"], { k: "v" });
      assert.deepEqual(out["keys"], ["a b+c.txt"]);
      assert.deepEqual(out["prefixes"], ["dir/", "p/", "q/"]);
      assert.equal(out["pages"], 4);
      assert.deepEqual(out["under_p"], ["p/1", "p/2", "p/3"]);
      assert.equal(out["copy"], "hello");
      assert.deepEqual(out["deleted"], ["p/1", "p/2"]);
      assert.equal(out["no_such_key"], "NoSuchKey");
      assert.equal(out["no_such_bucket"], "NoSuchBucket");
      assert.equal(out["not_empty"], "BucketNotEmpty");
      assert.equal(out["bad_range"], "InvalidRange");
      assert.deepEqual(tempFiles(t.lakeDir), []);
      const stored = fs.readFileSync(path.join(t.lakeDir, "boto", "dir", "up.bin"));
      assert.equal(sha256(stored), sha256(content));
    });
  });
}
