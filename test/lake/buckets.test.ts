import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { openLocalLake } from "../../src/lake/index.js";
import { rejectsWith, tempRoot } from "./helpers.js";

describe("local lake: buckets", () => {
  const root = tempRoot();
  const lake = openLocalLake(path.join(root, "lake"));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("creates, lists (sorted) and deletes buckets", async () => {
    assert.deepEqual(await lake.listBuckets(), [], "no root folder yet");
    await lake.createBucket("metrics-export");
    await lake.createBucket("archive.2024");
    await lake.createBucket("abc");
    assert.deepEqual(await lake.listBuckets(), ["abc", "archive.2024", "metrics-export"]);
    await lake.deleteBucket("abc");
    assert.deepEqual(await lake.listBuckets(), ["archive.2024", "metrics-export"]);
  });

  it("never lists its own temp and metadata folders as buckets", async () => {
    await lake.createBucket("hidden-test");
    await lake.putObject("hidden-test", "a.csv", "x");
    await lake.tempPath("hidden-test");
    assert.ok(fs.existsSync(path.join(root, "lake", ".tmp")));
    assert.ok(fs.existsSync(path.join(root, "lake", ".meta")));
    assert.ok((await lake.listBuckets()).every((bucket) => !bucket.startsWith(".")));
  });

  it("refuses to create a bucket twice, to delete a missing one, or a non-empty one", async () => {
    await lake.createBucket("twice");
    await rejectsWith(lake.createBucket("twice"), "Conflict", /bucket twice already exists/);
    await rejectsWith(lake.deleteBucket("never-made"), "NotFound", /bucket never-made does not exist/);
    await lake.putObject("twice", "dir/file.csv", "data");
    await rejectsWith(lake.deleteBucket("twice"), "Conflict", /bucket twice is not empty \(1 objects\)/);
    await lake.deleteObject("twice", "dir/file.csv");
    await lake.deleteBucket("twice");
    assert.ok(!(await lake.listBuckets()).includes("twice"));
  });

  it("refuses operations on a missing bucket with NotFound", async () => {
    await rejectsWith(lake.putObject("missing", "k", "v"), "NotFound", /bucket missing does not exist/);
    await rejectsWith(lake.getObject("missing", "k"), "NotFound", /bucket missing does not exist/);
    await rejectsWith(lake.headObject("missing", "k"), "NotFound", /bucket missing does not exist/);
    await rejectsWith(lake.listObjects("missing"), "NotFound", /bucket missing does not exist/);
    await rejectsWith(lake.deleteObject("missing", "k"), "NotFound", /bucket missing does not exist/);
    await rejectsWith(lake.tempPath("missing"), "NotFound", /bucket missing does not exist/);
  });

  const refused: [string, RegExp][] = [
    ["ab", /3 to 63 characters/],
    ["a".repeat(64), /3 to 63 characters/],
    ["Upper-case", /lowercase letters/],
    ["under_score", /lowercase letters/],
    ["-leading", /beginning and ending with a letter or digit/],
    ["trailing.", /beginning and ending with a letter or digit/],
    [".tmp", /beginning and ending/],
    ["two..dots", /two adjacent dots/],
    ["192.168.1.1", /IP address/],
    ["xn--punycode", /must not start with xn--/],
    ["sthree-bucket", /must not start with xn-- or sthree-/],
    ["name-s3alias", /must not end with -s3alias/],
    ["name--ol-s3", /--ol-s3/],
    ["with/slash", /lowercase letters/],
  ];
  for (const [bucket, why] of refused) {
    it(`refuses the bucket name ${JSON.stringify(bucket.length > 20 ? `${bucket.slice(0, 10)}…` : bucket)}`, async () => {
      await rejectsWith(
        lake.createBucket(bucket),
        "ValidationError",
        new RegExp(`invalid bucket name .*${why.source}`),
      );
      await rejectsWith(lake.putObject(bucket, "k", "v"), "ValidationError", /invalid bucket name/);
    });
  }

  it("refuses an empty root folder", () => {
    assert.throws(() => openLocalLake(""), /the lake's root folder must be a path/);
  });
});
