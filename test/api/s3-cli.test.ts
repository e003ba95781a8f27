/**
 * The S3 endpoint with the AWS CLI: `aws s3 mb / cp (up and down, multipart) / ls / sync / rm / rb`.
 * Run with Debian's CLI (/usr/bin/aws, v2), or the first `aws` on PATH when Debian's is missing
 * (each CLI call starts a Python: one CLI keeps the test short).
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

const DEBIAN_AWS = "/usr/bin/aws";
const pathAws = spawnSync("sh", ["-c", "command -v aws"], { encoding: "utf8" }).stdout.trim();
const clis = [fs.existsSync(DEBIAN_AWS) || !pathAws ? DEBIAN_AWS : pathAws];

function cliVersion(aws: string): string | null {
  if (!fs.existsSync(aws)) return null;
  const probe = spawnSync(aws, ["--version"], { encoding: "utf8", env: { ...process.env, AWS_PAGER: "" } });
  return probe.status === 0 ? `${probe.stdout}${probe.stderr}`.trim().split(" ")[0]! : null;
}

for (const aws of clis) {
  const version = cliVersion(aws);
  const skip =
    version === null ? `${aws} is missing${aws === DEBIAN_AWS ? " (install Debian's awscli)" : ""}` : false;
  if (skip) console.log(`# skipping the S3 AWS CLI test with ${aws}: ${skip}`);

  describe(`S3 endpoint with the AWS CLI ${version ?? ""} (${aws})`, { skip }, () => {
    let t: S3TestServer;
    let work: string;
    let env: NodeJS.ProcessEnv;

    const run = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(aws, ["--endpoint-url", t.server.url, ...args], {
        env,
        timeout: 120_000,
      });
      return stdout;
    };

    before(async () => {
      t = await startS3TestServer();
      work = tempDir("hg-s3-cli-");
      // A config of its own (nothing of the machine's): path style, and 5 MiB parts so that a
      // 6 MiB file goes up in two.
      const config = path.join(work, "config");
      fs.writeFileSync(
        config,
        "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n",
      );
      env = {
        PATH: process.env["PATH"],
        HOME: work,
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: path.join(work, "no-credentials"),
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_PAGER: "",
      };
    });
    after(async () => {
      await t?.close();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("makes a bucket, copies a multipart file up and down, lists, syncs both ways, removes", async () => {
      await run("s3", "mb", "s3://cli-bucket");
      const content = randomContent(6 * 1024 * 1024 + 11);
      fs.writeFileSync(path.join(work, "up.bin"), content);
      await run("s3", "cp", path.join(work, "up.bin"), "s3://cli-bucket/dir/up.bin");
      await run("s3", "cp", "s3://cli-bucket/dir/up.bin", path.join(work, "down.bin"));
      assert.equal(sha256(fs.readFileSync(path.join(work, "down.bin"))), sha256(content));
      const head = JSON.parse(
        await run("s3api", "head-object", "--bucket", "cli-bucket", "--key", "dir/up.bin"),
      );
      assert.match(head.ETag, /^"[0-9a-f]{32}-2"$/, "a multipart ETag: the upload went in two parts");

      assert.match(await run("s3", "ls"), /\scli-bucket$/m);
      const listing = await run("s3", "ls", "s3://cli-bucket/dir/");
      assert.match(listing, new RegExp(`\\s${content.length} up\\.bin$`, "m"));

      const from = path.join(work, "sync-from");
      fs.mkdirSync(path.join(from, "nested"), { recursive: true });
      fs.writeFileSync(path.join(from, "one.csv"), "a,b\n1,2\n");
      fs.writeFileSync(path.join(from, "nested", "two.csv"), "c\n3\n");
      const up = await run("s3", "sync", from, "s3://cli-bucket/sync/");
      assert.equal((up.match(/^upload:/gm) ?? []).length, 2, up);
      const again = await run("s3", "sync", from, "s3://cli-bucket/sync/");
      assert.equal(again.trim(), "", "a second sync finds nothing to upload");
      const to = path.join(work, "sync-to");
      await run("s3", "sync", "s3://cli-bucket/sync/", to);
      assert.equal(fs.readFileSync(path.join(to, "one.csv"), "utf8"), "a,b\n1,2\n");
      assert.equal(fs.readFileSync(path.join(to, "nested", "two.csv"), "utf8"), "c\n3\n");

      await run("s3", "rm", "s3://cli-bucket/dir/up.bin");
      assert.deepEqual(await t.lake.listObjects("cli-bucket", { prefix: "dir/" }), {
        objects: [],
        commonPrefixes: [],
        isTruncated: false,
      });
      await run("s3", "rb", "s3://cli-bucket", "--force");
      assert.deepEqual(await t.lake.listBuckets(), []);
      assert.deepEqual(tempFiles(t.lakeDir), []);
    });
  });
}
