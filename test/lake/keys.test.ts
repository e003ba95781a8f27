import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { checkKey, openLocalLake } from "../../src/lake/index.js";
import { readStream, rejectsWith, tempRoot } from "./helpers.js";

describe("local lake: keys", () => {
  const root = tempRoot();
  const lakeRoot = path.join(root, "lake");
  const lake = openLocalLake(lakeRoot);
  const bucket = "keys";
  before(async () => {
    await lake.createBucket(bucket);
    // A file next to the lake that an escaping key would reach.
    fs.writeFileSync(path.join(root, "secret.txt"), "do not touch");
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const refused: [string, string, RegExp][] = [
    ["empty", "", /it is empty/],
    ["starting with /", "/etc/passwd", /it starts with \//],
    ["a .. segment", "a/../../secret.txt", /it contains a \.\. segment/],
    ["only ..", "..", /\.\. segment/],
    ["a trailing .. segment", "a/..", /\.\. segment/],
    ["a NUL", "a\0b", /NUL character/],
    ["a backslash", "a\\..\\b", /backslash/],
    ["over 1024 bytes", `${"é".repeat(512)}x`, /longer than 1024 bytes/],
    ["an empty segment", "a//b", /empty segment/],
    ["a trailing slash", "folder/", /empty segment/],
    ["a . segment", "./a", /a \. segment/],
    ["a segment over 255 bytes", `dir/${"x".repeat(256)}`, /segment is longer than 255 bytes/],
  ];

  for (const [what, key, why] of refused) {
    it(`refuses a key with ${what}, naming it, on every operation`, async () => {
      const named = new RegExp(
        `invalid object key ${escapeRegExp(JSON.stringify(key).slice(0, 40))}.*${why.source}`,
      );
      await rejectsWith(lake.putObject(bucket, key, "x"), "ValidationError", named);
      await rejectsWith(lake.getObject(bucket, key), "ValidationError", named);
      await rejectsWith(lake.headObject(bucket, key), "ValidationError", named);
      await rejectsWith(lake.deleteObject(bucket, key), "ValidationError", named);
      await rejectsWith(readStream(lake.getObjectStream(bucket, key)), "ValidationError", named);
      const temp = await lake.tempPath(bucket);
      fs.writeFileSync(temp, "x");
      await rejectsWith(lake.putFile(bucket, key, temp), "ValidationError", named);
    });
  }

  it("refuses a key that is not a string", async () => {
    await rejectsWith(
      lake.putObject(bucket, 42 as never, "x"),
      "ValidationError",
      /the object key must be a string/,
    );
  });

  it("nothing escaped the bucket", async () => {
    assert.equal(fs.readFileSync(path.join(root, "secret.txt"), "utf8"), "do not touch");
    assert.deepEqual(fs.readdirSync(root).sort(), ["lake", "secret.txt"]);
    assert.deepEqual((await lake.listObjects(bucket)).objects, []);
  });

  it("accepts keys up to 1024 bytes, unicode, spaces and dots inside names", async () => {
    const long = Array.from({ length: 4 }, (_, index) => `${index}${"k".repeat(250)}`).join("/") + "/end";
    assert.ok(Buffer.byteLength(long) <= 1024);
    for (const key of [
      long,
      "données/été.csv",
      "with space/file name.csv",
      "a/.hidden",
      "a/..b",
      "dt=2024-03-01/x",
    ]) {
      checkKey(key);
      await lake.putObject(bucket, key, key);
      assert.equal(Buffer.from(await lake.getObject(bucket, key)).toString(), key);
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
