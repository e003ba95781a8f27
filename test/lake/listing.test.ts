import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type ListOptions, openLocalLake } from "../../src/lake/index.js";
import { md5, rejectsWith, tempRoot } from "./helpers.js";

const keys = [
  "2024-03-01-00/my_file.csv",
  "2024-03-01-01/my_file.csv",
  "2024-03-01-01/other.csv",
  "2024-03-02-00/my_file.csv",
  "README",
  "a-b",
  "a/b",
  "a/c/d",
  "a0",
  "zeta/z.csv",
  "zeta/é.csv",
];

describe("local lake: listing", () => {
  const root = tempRoot();
  const lake = openLocalLake(path.join(root, "lake"));
  const bucket = "listing";
  before(async () => {
    await lake.createBucket(bucket);
    // Put in a scrambled order: listing order must not depend on it.
    for (const key of [...keys].reverse()) await lake.putObject(bucket, key, `content of ${key}`);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const list = (options: ListOptions = {}) => lake.listObjects(bucket, options);

  it("lists every key in UTF-8 byte order with size and etag", async () => {
    const result = await list();
    assert.deepEqual(
      result.objects.map((object) => object.key),
      keys,
    );
    assert.equal(result.isTruncated, false);
    assert.deepEqual(result.commonPrefixes, []);
    const first = result.objects[0]!;
    assert.equal(first.size, Buffer.byteLength(`content of ${first.key}`));
    assert.equal(first.etag, md5(`content of ${first.key}`));
    assert.ok(first.lastModified instanceof Date);
  });

  it("filters by prefix, including a partial segment", async () => {
    assert.deepEqual(
      (await list({ prefix: "2024-03-01" })).objects.map((object) => object.key),
      ["2024-03-01-00/my_file.csv", "2024-03-01-01/my_file.csv", "2024-03-01-01/other.csv"],
    );
    assert.deepEqual(
      (await list({ prefix: "2024-03-01-01/" })).objects.map((object) => object.key),
      ["2024-03-01-01/my_file.csv", "2024-03-01-01/other.csv"],
    );
    assert.deepEqual(
      (await list({ prefix: "2024-03-01-01/my" })).objects.map((object) => object.key),
      ["2024-03-01-01/my_file.csv"],
    );
    assert.deepEqual((await list({ prefix: "nothing/" })).objects, []);
    assert.deepEqual((await list({ prefix: "../" })).objects, [], "a prefix cannot escape");
  });

  it("rolls keys up into common prefixes with a delimiter", async () => {
    const top = await list({ delimiter: "/" });
    assert.deepEqual(top.commonPrefixes, [
      "2024-03-01-00/",
      "2024-03-01-01/",
      "2024-03-02-00/",
      "a/",
      "zeta/",
    ]);
    assert.deepEqual(
      top.objects.map((object) => object.key),
      ["README", "a-b", "a0"],
    );
    const inA = await list({ prefix: "a/", delimiter: "/" });
    assert.deepEqual(inA.commonPrefixes, ["a/c/"]);
    assert.deepEqual(
      inA.objects.map((object) => object.key),
      ["a/b"],
    );
    const byDash = await list({ prefix: "2024", delimiter: "-01" });
    assert.deepEqual(byDash.commonPrefixes, ["2024-03-01"]);
    assert.deepEqual(
      byDash.objects.map((object) => object.key),
      ["2024-03-02-00/my_file.csv"],
    );
  });

  it("pages with maxKeys and nextStartAfter, through common prefixes, without repeats", async () => {
    const seen: string[] = [];
    let startAfter: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await list({
        delimiter: "/",
        maxKeys: 2,
        ...(startAfter === undefined ? {} : { startAfter }),
      });
      const entries = [...result.commonPrefixes, ...result.objects.map((object) => object.key)];
      assert.ok(entries.length <= 2);
      seen.push(...entries);
      if (!result.isTruncated) break;
      assert.equal(result.nextStartAfter, [...entries].sort().at(-1));
      startAfter = result.nextStartAfter;
    }
    assert.deepEqual(
      seen.sort(),
      ["2024-03-01-00/", "2024-03-01-01/", "2024-03-02-00/", "README", "a-b", "a/", "a0", "zeta/"].sort(),
    );
  });

  it("startAfter skips keys up to and including it", async () => {
    assert.deepEqual(
      (await list({ startAfter: "a/b" })).objects.map((object) => object.key),
      ["a/c/d", "a0", "zeta/z.csv", "zeta/é.csv"],
    );
    assert.deepEqual(
      (await list({ prefix: "zeta/", startAfter: "zeta/z.csv" })).objects.map((object) => object.key),
      ["zeta/é.csv"],
      "é (0xC3 0xA9) sorts after z (0x7A) in UTF-8 byte order",
    );
  });

  it("a full page that is exactly the end is not truncated", async () => {
    const result = await list({ prefix: "zeta/", maxKeys: 2 });
    assert.equal(result.objects.length, 2);
    assert.equal(result.isTruncated, false);
    assert.equal(result.nextStartAfter, undefined);
  });

  it("never shows temp files or sidecars", async () => {
    const temp = await lake.tempPath(bucket);
    fs.writeFileSync(temp, "half-written export");
    const all = await list();
    assert.equal(all.objects.length, keys.length);
    assert.ok(all.objects.every((object) => !object.key.includes(".part") && !object.key.startsWith(".")));
  });

  it("refuses bad options", async () => {
    await rejectsWith(
      list({ maxKeys: 0 }),
      "ValidationError",
      /maxKeys must be an integer from 1 to 1000, got 0/,
    );
    await rejectsWith(
      list({ maxKeys: 1001 }),
      "ValidationError",
      /maxKeys must be an integer from 1 to 1000/,
    );
    await rejectsWith(list({ prefix: 3 as never }), "ValidationError", /prefix must be a string/);
    await rejectsWith(list({ delimiter: 3 as never }), "ValidationError", /delimiter must be a string/);
    await rejectsWith(list({ startAfter: 3 as never }), "ValidationError", /startAfter must be a string/);
  });
});
