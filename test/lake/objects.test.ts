import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { openLocalLake } from "../../src/lake/index.js";
import { md5, readStream, rejectsWith, sha256, tempRoot } from "./helpers.js";

describe("local lake: objects", () => {
  const root = tempRoot();
  const lakeRoot = path.join(root, "lake");
  const lake = openLocalLake(lakeRoot);
  const bucket = "exports";
  before(() => lake.createBucket(bucket));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("puts a string, bytes or a stream and gets them back with their MD5 etag and SHA-256", async () => {
    const csv = "time,host,cpu\n2024-03-01T00:00:00Z,host-1,0.5\n";
    assert.deepEqual(
      await lake.putObject(bucket, "2024-03-01-00/my_file.csv", csv, { contentType: "text/csv" }),
      {
        etag: md5(csv),
        sha256: sha256(csv),
        size: Buffer.byteLength(csv),
      },
    );
    const bytes = new Uint8Array([0, 1, 2, 255]);
    assert.deepEqual(await lake.putObject(bucket, "bytes.bin", bytes), {
      etag: md5(bytes),
      sha256: sha256(bytes),
      size: 4,
    });
    const parts = ["alpha,", "beta,", "gamma"];
    const streamed = await lake.putObject(bucket, "deep/a/b/c/streamed.txt", Readable.from(parts));
    assert.deepEqual(streamed, {
      etag: md5(parts.join("")),
      sha256: sha256(parts.join("")),
      size: parts.join("").length,
    });

    assert.equal(Buffer.from(await lake.getObject(bucket, "2024-03-01-00/my_file.csv")).toString(), csv);
    assert.deepEqual(new Uint8Array(await lake.getObject(bucket, "bytes.bin")), bytes);
    assert.equal(
      (await readStream(lake.getObjectStream(bucket, "deep/a/b/c/streamed.txt"))).toString(),
      parts.join(""),
    );
  });

  it("headObject reports size, etag, time and content type; null for a missing key", async () => {
    const before = Date.now();
    await lake.putObject(bucket, "head/me.json", '{"a":1}', { contentType: "application/json" });
    const head = await lake.headObject(bucket, "head/me.json");
    assert.ok(head);
    assert.equal(head.size, 7);
    assert.equal(head.etag, md5('{"a":1}'));
    assert.equal(head.contentType, "application/json");
    assert.ok(head.lastModified.getTime() >= before - 1000, "lastModified is the write time");
    assert.equal((await lake.headObject(bucket, "bytes.bin"))?.contentType, "application/octet-stream");
    assert.equal(await lake.headObject(bucket, "head/missing.json"), null);
    assert.equal(await lake.headObject(bucket, "head"), null, "a prefix is not an object");
  });

  it("a re-put replaces the object whole", async () => {
    await lake.putObject(bucket, "replace.csv", "version 1, a longer first version\n");
    const second = await lake.putObject(bucket, "replace.csv", "v2\n", { contentType: "text/csv" });
    assert.equal(Buffer.from(await lake.getObject(bucket, "replace.csv")).toString(), "v2\n");
    const head = await lake.headObject(bucket, "replace.csv");
    assert.deepEqual([head?.etag, head?.size, head?.contentType], [second.etag, 3, "text/csv"]);
  });

  it("missing objects are NotFound on get and stream; delete of a missing key succeeds", async () => {
    await rejectsWith(
      lake.getObject(bucket, "nope.csv"),
      "NotFound",
      /object s3:\/\/exports\/nope.csv does not exist/,
    );
    await rejectsWith(
      readStream(lake.getObjectStream(bucket, "nope.csv")),
      "NotFound",
      /nope.csv does not exist/,
    );
    await rejectsWith(lake.getObject(bucket, "deep/a"), "NotFound", /deep\/a does not exist/);
    await rejectsWith(lake.getObject(bucket, "bytes.bin/below"), "NotFound", /does not exist/);
    await lake.deleteObject(bucket, "nope.csv");
    await lake.deleteObject(bucket, "deep");
    assert.ok(await lake.headObject(bucket, "deep/a/b/c/streamed.txt"), "deleting a prefix deletes nothing");
  });

  it("delete removes the object and the folders it leaves empty", async () => {
    await lake.putObject(bucket, "gone/x/y/z.csv", "1");
    await lake.putObject(bucket, "gone/keep.csv", "2");
    await lake.deleteObject(bucket, "gone/x/y/z.csv");
    assert.equal(await lake.headObject(bucket, "gone/x/y/z.csv"), null);
    assert.ok(!fs.existsSync(path.join(lakeRoot, bucket, "gone", "x")), "empty folders are removed");
    assert.ok(!fs.existsSync(path.join(lakeRoot, ".meta", bucket, "gone", "x")), "and so are sidecars");
    assert.ok(fs.existsSync(path.join(lakeRoot, bucket, "gone", "keep.csv")));
    const listed = await lake.listObjects(bucket, { prefix: "gone/" });
    assert.deepEqual(
      listed.objects.map((object) => object.key),
      ["gone/keep.csv"],
    );
  });

  it("refuses a key that collides with an object as a folder, or a folder as an object", async () => {
    await lake.putObject(bucket, "clash", "file");
    await rejectsWith(
      lake.putObject(bucket, "clash/inside.csv", "x"),
      "Conflict",
      /object clash is in the way/,
    );
    await lake.putObject(bucket, "folder/inside.csv", "x");
    await rejectsWith(
      lake.putObject(bucket, "folder", "x"),
      "Conflict",
      /other objects have keys under folder\//,
    );
    assert.equal(Buffer.from(await lake.getObject(bucket, "clash")).toString(), "file");
  });

  it("putFile commits a file written to tempPath by moving it", async () => {
    const temp = await lake.tempPath(bucket);
    assert.ok(temp.startsWith(path.join(lakeRoot, ".tmp")), temp);
    fs.writeFileSync(temp, "exported,rows\n1,2\n");
    const result = await lake.putFile(bucket, "2024-03-01-01/my_file.csv", temp, { contentType: "text/csv" });
    assert.deepEqual(result, {
      etag: md5("exported,rows\n1,2\n"),
      sha256: sha256("exported,rows\n1,2\n"),
      size: 18,
    });
    assert.ok(!fs.existsSync(temp), "the temp file was moved into place");
    assert.equal(
      Buffer.from(await lake.getObject(bucket, "2024-03-01-01/my_file.csv")).toString(),
      "exported,rows\n1,2\n",
    );
    assert.equal((await lake.headObject(bucket, "2024-03-01-01/my_file.csv"))?.contentType, "text/csv");
  });

  it("putFile copies a file from elsewhere and leaves it in place", async () => {
    const outside = path.join(root, "outside.csv");
    fs.writeFileSync(outside, "copied\n");
    const result = await lake.putFile(bucket, "copied.csv", outside);
    assert.equal(result.etag, md5("copied\n"));
    assert.equal(result.sha256, sha256("copied\n"));
    assert.ok(fs.existsSync(outside));
    assert.equal(Buffer.from(await lake.getObject(bucket, "copied.csv")).toString(), "copied\n");
    await rejectsWith(
      lake.putFile(bucket, "x.csv", path.join(root, "absent.csv")),
      "NotFound",
      /local file .*absent.csv does not exist/,
    );
    await rejectsWith(lake.putFile(bucket, "x.csv", root), "NotFound", /does not exist/);
  });

  it("refuses bad bodies and options", async () => {
    await rejectsWith(
      lake.putObject(bucket, "bad.bin", 42 as never),
      "ValidationError",
      /body must be a Uint8Array, a string or a Readable/,
    );
    await rejectsWith(
      lake.putObject(bucket, "bad.bin", "x", { contentType: "" }),
      "ValidationError",
      /contentType must be a non-empty string/,
    );
    await rejectsWith(
      lake.putFile(bucket, "bad.bin", ""),
      "ValidationError",
      /localPath must be a file path/,
    );
    assert.equal(await lake.headObject(bucket, "bad.bin"), null);
  });

  it("a failing stream body leaves no object and no temp file behind", async () => {
    const failing = new Readable({
      read() {
        this.push("partial data");
        this.destroy(new Error("source broke"));
      },
    });
    await assert.rejects(lake.putObject(bucket, "broken.csv", failing), /source broke/);
    assert.equal(await lake.headObject(bucket, "broken.csv"), null);
    const leftovers = fs.readdirSync(path.join(lakeRoot, ".tmp")).filter((name) => name.startsWith("put-"));
    assert.deepEqual(leftovers, []);
  });

  it("an etag survives a lost or stale sidecar (recomputed from the content)", async () => {
    await lake.putObject(bucket, "sidecar/check.csv", "content A");
    const sidecar = path.join(lakeRoot, ".meta", bucket, "sidecar", "check.csv");
    fs.writeFileSync(sidecar, "{ not json");
    assert.equal((await lake.headObject(bucket, "sidecar/check.csv"))?.etag, md5("content A"));
    fs.rmSync(sidecar);
    const listed = await lake.listObjects(bucket, { prefix: "sidecar/" });
    assert.equal(listed.objects[0]?.etag, md5("content A"));
    assert.ok(fs.existsSync(sidecar), "the recomputed etag is cached again");
    // A sidecar of another version (as after a crash between the two renames) is not trusted.
    const stale = JSON.parse(fs.readFileSync(sidecar, "utf8"));
    fs.writeFileSync(sidecar, JSON.stringify({ ...stale, ino: stale.ino + 1, etag: "0".repeat(32) }));
    assert.equal((await lake.headObject(bucket, "sidecar/check.csv"))?.etag, md5("content A"));
  });

  it("a put clears stale sidecars in its way (a file where a folder goes, a folder where a file goes)", async () => {
    const meta = path.join(lakeRoot, ".meta", bucket);
    // As after a crash: "stale/a" was an object (its sidecar a file), now a folder of objects.
    fs.mkdirSync(path.join(meta, "stale"), { recursive: true });
    fs.writeFileSync(path.join(meta, "stale", "a"), "{}");
    await lake.putObject(bucket, "stale/a/b.csv", "inside", { contentType: "text/csv" });
    // And the other way round: "stale/c" was a folder of objects, now an object.
    fs.mkdirSync(path.join(meta, "stale", "c", "d"), { recursive: true });
    await lake.putObject(bucket, "stale/c", "an object", { contentType: "text/plain" });
    const first = await lake.headObject(bucket, "stale/a/b.csv");
    const second = await lake.headObject(bucket, "stale/c");
    assert.deepEqual([first?.etag, first?.contentType], [md5("inside"), "text/csv"]);
    assert.deepEqual([second?.etag, second?.contentType], [md5("an object"), "text/plain"]);
    assert.ok(fs.statSync(path.join(meta, "stale", "c")).isFile(), "the sidecar replaced the stale folder");
    const leftovers = fs.readdirSync(path.join(lakeRoot, ".tmp")).filter((name) => name.startsWith("meta-"));
    assert.deepEqual(leftovers, [], "no sidecar temp file is left behind");
  });

  it("putFile from tempPath: NotFound when the temp file is gone or is a folder; the file stays on failure", async () => {
    const gone = await lake.tempPath(bucket);
    await rejectsWith(
      lake.putFile(bucket, "temp/gone.csv", gone),
      "NotFound",
      /local file .* does not exist/,
    );
    const folder = await lake.tempPath(bucket);
    fs.mkdirSync(folder);
    await rejectsWith(lake.putFile(bucket, "temp/folder.csv", folder), "NotFound", /does not exist/);
    fs.rmdirSync(folder);
    // A commit that fails (a key clash) leaves the temp file where it is, for the caller to retry or remove.
    await lake.putObject(bucket, "temp/clash", "file");
    const temp = await lake.tempPath(bucket);
    fs.writeFileSync(temp, "rows\n");
    await rejectsWith(
      lake.putFile(bucket, "temp/clash/inside.csv", temp),
      "Conflict",
      /temp\/clash is in the way/,
    );
    assert.ok(fs.existsSync(temp));
    const retried = await lake.putFile(bucket, "temp/ok.csv", temp);
    assert.deepEqual([retried.etag, retried.sha256], [md5("rows\n"), sha256("rows\n")]);
    assert.equal(await lake.headObject(bucket, "temp/gone.csv"), null);
  });

  it("puts into folders that exist, that are new, and that a delete removed meanwhile", async () => {
    await lake.putObject(bucket, "hours/2024-03-01-00/my_file.csv", "a");
    await lake.putObject(bucket, "hours/2024-03-01-00/my_file.csv.manifest.json", "{}");
    await lake.deleteObject(bucket, "hours/2024-03-01-00/my_file.csv");
    await lake.deleteObject(bucket, "hours/2024-03-01-00/my_file.csv.manifest.json");
    assert.ok(!fs.existsSync(path.join(lakeRoot, bucket, "hours")), "the delete removed the empty folders");
    await lake.putObject(bucket, "hours/2024-03-01-00/my_file.csv", "b");
    assert.equal(
      Buffer.from(await lake.getObject(bucket, "hours/2024-03-01-00/my_file.csv")).toString(),
      "b",
    );
    const listed = await lake.listObjects(bucket, { prefix: "hours/" });
    assert.deepEqual(
      listed.objects.map((o) => [o.key, o.etag]),
      [["hours/2024-03-01-00/my_file.csv", md5("b")]],
    );
  });
});
