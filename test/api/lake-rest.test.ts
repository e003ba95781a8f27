/** The lake's REST routes on a real `hourglass up` runtime (the routes as start.ts mounts them). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { checkedBytes } from "../../src/api/rest/lake-routes.js";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";

const md5 = (data: Buffer | string) => createHash("md5").update(data).digest("hex");
const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Waits for a condition (polling), failing after a deadline. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("lake REST API (/api/v1/buckets)", () => {
  let dir: string;
  let runtime: HourglassRuntime;
  let base: string;
  // JSON bodies say so, as REST clients must (a POST without a content type is what a web page sends cross-site).
  const api = (route: string, init: RequestInit = {}) =>
    fetch(`${base}/api/v1${route}`, {
      ...init,
      headers:
        init.method === "POST" ? { "content-type": "application/json", ...init.headers } : init.headers,
    });
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field by the tests
  const json = async (response: Response) => (await response.json()) as Record<string, any>;
  const put = (route: string, body: string | Buffer, contentType?: string) =>
    api(route, { method: "PUT", body, headers: contentType ? { "content-type": contentType } : {} });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-lake-rest-"));
    const dagsDir = path.join(dir, "dags");
    fs.mkdirSync(dagsDir);
    const config = resolveConfig({
      flags: { stateDir: path.join(dir, "state"), dagsDir, port: 0 },
      env: {},
      cwd: dir,
    });
    runtime = await startHourglass(config, {
      scheduler: false,
      workers: 0,
      writeServerInfo: false,
      log: silentLog,
    });
    base = runtime.url;
  });
  after(async () => {
    await runtime?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates, lists and deletes buckets, refusing duplicates, bad names and non-empty deletes", async () => {
    const created = await api("/buckets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Bucket: "demo-airflow-ts-output" }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await json(created), { Bucket: "demo-airflow-ts-output" });
    assert.deepEqual(
      await runtime.lake.listBuckets(),
      ["demo-airflow-ts-output"],
      "the runtime's lake has it",
    );

    const again = await api("/buckets", {
      method: "POST",
      body: JSON.stringify({ Bucket: "demo-airflow-ts-output" }),
    });
    assert.equal(again.status, 409);
    const againBody = await json(again);
    assert.equal(againBody.error.code, "Conflict");
    assert.equal(againBody.error.message, "bucket demo-airflow-ts-output already exists");

    const bad = await api("/buckets", { method: "POST", body: JSON.stringify({ Bucket: "Demo_Bucket" }) });
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).error.message, /invalid bucket name "Demo_Bucket": use lowercase letters/);
    const notJson = await api("/buckets", { method: "POST", body: "demo" });
    assert.equal(notJson.status, 400);
    assert.equal((await json(notJson)).error.message, "the request body must be JSON");
    const noName = await api("/buckets", { method: "POST", body: JSON.stringify({ Name: "x" }) });
    assert.equal(noName.status, 400);
    assert.match(
      (await json(noName)).error.message,
      /^invalid request body: Bucket: .*; body: Unrecognized key: "Name"$/,
    );

    await api("/buckets", { method: "POST", body: JSON.stringify({ Bucket: "scratch" }) });
    assert.deepEqual(await json(await api("/buckets")), {
      Buckets: [{ Name: "demo-airflow-ts-output" }, { Name: "scratch" }],
    });
    assert.equal((await put("/buckets/scratch/objects/a.txt", "a")).status, 200);
    const full = await api("/buckets/scratch", { method: "DELETE" });
    assert.equal(full.status, 409);
    assert.match((await json(full)).error.message, /^bucket scratch is not empty \(1 objects\)/);
    assert.equal((await api("/buckets/scratch/objects/a.txt", { method: "DELETE" })).status, 204);
    assert.equal((await api("/buckets/scratch", { method: "DELETE" })).status, 204);
    const gone = await api("/buckets/scratch", { method: "DELETE" });
    assert.equal(gone.status, 404);
    assert.equal((await json(gone)).error.message, "bucket scratch does not exist");
  });

  it("puts, gets (whole and ranges), heads and deletes objects", async () => {
    await runtime.lake.createBucket("objects");
    const csv = "instance_name,avg_cpu\nhost-0,1.5\nhost-1,2.5\n";
    const putResponse = await put("/buckets/objects/objects/2021-09-22-13/my_file.csv", csv, "text/csv");
    assert.equal(putResponse.status, 200);
    assert.equal(putResponse.headers.get("etag"), `"${md5(csv)}"`);
    assert.deepEqual(await json(putResponse), {
      Bucket: "objects",
      Key: "2021-09-22-13/my_file.csv",
      ETag: `"${md5(csv)}"`,
      Size: csv.length,
      Sha256: sha256(csv),
    });

    // The key's / encoded or not: the same object.
    for (const route of [
      "/buckets/objects/objects/2021-09-22-13/my_file.csv",
      "/buckets/objects/objects/2021-09-22-13%2Fmy_file.csv",
    ]) {
      const got = await api(route);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get("content-type"), "text/csv");
      assert.equal(got.headers.get("content-length"), String(csv.length));
      assert.equal(got.headers.get("etag"), `"${md5(csv)}"`);
      assert.equal(got.headers.get("accept-ranges"), "bytes");
      assert.ok(Date.parse(got.headers.get("last-modified")!) > 0);
      assert.equal(await got.text(), csv);
    }

    const head = await api("/buckets/objects/objects/2021-09-22-13/my_file.csv", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(csv.length));
    assert.equal(head.headers.get("etag"), `"${md5(csv)}"`);
    assert.equal(await head.text(), "");

    const range = async (spec: string) => {
      const response = await api("/buckets/objects/objects/2021-09-22-13/my_file.csv", {
        headers: { range: spec },
      });
      return {
        status: response.status,
        contentRange: response.headers.get("content-range"),
        text: await response.text(),
      };
    };
    assert.deepEqual(await range("bytes=0-12"), {
      status: 206,
      contentRange: `bytes 0-12/${csv.length}`,
      text: csv.slice(0, 13),
    });
    assert.deepEqual(await range("bytes=22-"), {
      status: 206,
      contentRange: `bytes 22-${csv.length - 1}/${csv.length}`,
      text: csv.slice(22),
    });
    assert.deepEqual(await range("bytes=-11"), {
      status: 206,
      contentRange: `bytes ${csv.length - 11}-${csv.length - 1}/${csv.length}`,
      text: csv.slice(-11),
    });
    assert.deepEqual(await range("bytes=5-1000"), {
      status: 206,
      contentRange: `bytes 5-${csv.length - 1}/${csv.length}`,
      text: csv.slice(5),
    });
    assert.equal((await range("bytes=0-1,4-5")).text, csv, "several ranges: the whole object, as S3 does");
    const past = await range(`bytes=${csv.length}-`);
    assert.equal(past.status, 416);
    assert.equal(past.contentRange, `bytes */${csv.length}`);
    assert.match(
      JSON.parse(past.text).error.message,
      /starts past the end of s3:\/\/objects\/2021-09-22-13\/my_file.csv \(44 bytes\)/,
    );

    // A multi-chunk object streams whole and checked; without a content type it is octet-stream.
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    assert.equal((await put("/buckets/objects/objects/big.bin", big)).status, 200);
    const gotBig = await api("/buckets/objects/objects/big.bin");
    assert.equal(gotBig.headers.get("content-type"), "application/octet-stream");
    assert.ok(Buffer.from(await gotBig.arrayBuffer()).equals(big));
    const tail = await api("/buckets/objects/objects/big.bin", {
      headers: { range: "bytes=1048570-2097160" },
    });
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(big.subarray(1048570, 2097161)));

    assert.equal((await api("/buckets/objects/objects/big.bin", { method: "DELETE" })).status, 204);
    const missing = await api("/buckets/objects/objects/big.bin");
    assert.equal(missing.status, 404);
    assert.deepEqual((await json(missing)).error, {
      code: "NotFound",
      message: "object s3://objects/big.bin does not exist",
      context: { bucket: "objects", key: "big.bin" },
    });
    assert.equal((await api("/buckets/objects/objects/big.bin", { method: "HEAD" })).status, 404);
    const noBucket = await api("/buckets/no-such-bucket/objects/a.csv");
    assert.equal(noBucket.status, 404);
    assert.equal((await json(noBucket)).error.message, "bucket no-such-bucket does not exist");
  });

  it("refuses keys with .. segments, absolute keys and bad bucket names, writing nothing", async () => {
    await runtime.lake.createBucket("guarded");
    const checks: [string, RegExp][] = [
      [
        "/buckets/guarded/objects/a%2F..%2F..%2Fescape.csv",
        /^invalid object key "a\/..\/..\/escape.csv": it contains a .. segment$/,
      ],
      ["/buckets/guarded/objects/%2Fetc%2Fpasswd", /^invalid object key "\/etc\/passwd": it starts with \/$/],
      ["/buckets/guarded/objects/folder%2F", /^invalid object key "folder\/": it has an empty segment/],
      ["/buckets/Bad_Bucket/objects/a.csv", /^invalid bucket name "Bad_Bucket"/],
    ];
    for (const [route, message] of checks) {
      for (const method of ["PUT", "GET", "DELETE"]) {
        const response = await api(route, { method, ...(method === "PUT" ? { body: "x" } : {}) });
        assert.equal(response.status, 400, `${method} ${route}`);
        const body = await json(response);
        assert.equal(body.error.code, "ValidationError");
        assert.match(body.error.message, message, `${method} ${route}`);
      }
    }
    assert.deepEqual((await runtime.lake.listObjects("guarded")).objects, []);
    assert.ok(!fs.existsSync(path.join(runtime.config.lakeDir, "escape.csv")));
  });

  it("lists with prefix, delimiter, max-keys, start-after and continuation tokens", async () => {
    await runtime.lake.createBucket("listing");
    const keys = [
      "2021-09-22-12/my_file.csv",
      "2021-09-22-13/my_file.csv",
      "2021-09-22-13/my_file.csv.manifest.json",
      "2021-09-22-14/my_file.csv",
      "readme.txt",
    ];
    for (const key of keys) await runtime.lake.putObject("listing", key, key);

    const all = await json(await api("/buckets/listing/objects"));
    assert.deepEqual(
      all.Contents.map((o: { Key: string }) => o.Key),
      keys,
    );
    assert.equal(all.KeyCount, 5);
    assert.equal(all.IsTruncated, false);
    assert.equal(all.Contents[4].ETag, `"${md5("readme.txt")}"`);
    assert.equal(all.Contents[4].Size, "readme.txt".length);

    const folders = await json(await api("/buckets/listing/objects?delimiter=/"));
    assert.deepEqual(folders.CommonPrefixes, [
      { Prefix: "2021-09-22-12/" },
      { Prefix: "2021-09-22-13/" },
      { Prefix: "2021-09-22-14/" },
    ]);
    assert.deepEqual(
      folders.Contents.map((o: { Key: string }) => o.Key),
      ["readme.txt"],
    );

    const inside = await json(await api("/buckets/listing/objects?prefix=2021-09-22-13/&delimiter=/"));
    assert.deepEqual(
      inside.Contents.map((o: { Key: string }) => o.Key),
      keys.slice(1, 3),
    );

    // Two entries a page, following NextContinuationToken: every entry once, in order.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = new URLSearchParams({
        delimiter: "/",
        "max-keys": "2",
        ...(token ? { "continuation-token": token } : {}),
      });
      const page = await json(await api(`/buckets/listing/objects?${query}`));
      pages++;
      seen.push(
        ...page.CommonPrefixes.map((p: { Prefix: string }) => p.Prefix),
        ...page.Contents.map((o: { Key: string }) => o.Key),
      );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated) assert.equal(page.NextStartAfter, seen.at(-1));
    } while (token);
    assert.equal(pages, 2);
    assert.deepEqual(seen, ["2021-09-22-12/", "2021-09-22-13/", "2021-09-22-14/", "readme.txt"]);

    const afterKey = await json(
      await api("/buckets/listing/objects?start-after=2021-09-22-13/my_file.csv.manifest.json"),
    );
    assert.deepEqual(
      afterKey.Contents.map((o: { Key: string }) => o.Key),
      keys.slice(3),
    );

    const bad: [string, RegExp][] = [
      ["max-keys=0", /^invalid query: max-keys: must be at least 1$/],
      ["max-keys=1001", /^invalid query: max-keys: must be at most 1000$/],
      ["max-keys=ten", /^invalid query: max-keys: must be an integer from 1 to 1000$/],
      ["maxKeys=10", /^invalid query: .*Unrecognized key: "maxKeys"/],
      [
        "continuation-token=not%20a%20token",
        /^continuation-token "not a token" is not one this server gave out$/,
      ],
    ];
    for (const [query, message] of bad) {
      const response = await api(`/buckets/listing/objects?${query}`);
      assert.equal(response.status, 400, query);
      assert.match((await json(response)).error.message, message, query);
    }
    assert.equal((await api("/buckets/no-such-bucket/objects")).status, 404);
  });

  it("serves the manifest an export wrote beside its file", async () => {
    await runtime.lake.createBucket("demo-exports");
    const exported = await api("/exports", {
      method: "POST",
      body: JSON.stringify({
        query: "SELECT 1 AS one, 'a' AS letter",
        bucket: "demo-exports",
        key: "2021-09-22-13/my_file.csv",
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
      }),
    });
    assert.equal(exported.status, 200, await exported.clone().text());
    const file = await (await api("/buckets/demo-exports/objects/2021-09-22-13/my_file.csv")).text();

    for (const key of ["2021-09-22-13/my_file.csv", "2021-09-22-13/my_file.csv.manifest.json"]) {
      const response = await api(`/buckets/demo-exports/manifests/${key}`);
      assert.equal(response.status, 200);
      const body = await json(response);
      assert.equal(body.Key, "2021-09-22-13/my_file.csv");
      assert.equal(body.ManifestKey, "2021-09-22-13/my_file.csv.manifest.json");
      assert.equal(body.Manifest.rows, 1);
      assert.equal(body.Manifest.sha256, sha256(file));
      assert.equal(body.Manifest.bytes, Buffer.byteLength(file));
      assert.deepEqual(body.Manifest.columns, ["one", "letter"]);
      assert.equal(body.Manifest.runId, "scheduled__2021-09-22T13:00:00+00:00");
    }

    await runtime.lake.putObject("demo-exports", "notes.txt", "not an export");
    const none = await api("/buckets/demo-exports/manifests/notes.txt");
    assert.equal(none.status, 404);
    assert.equal(
      (await json(none)).error.message,
      "s3://demo-exports/notes.txt has no manifest (s3://demo-exports/notes.txt.manifest.json does not exist): only files written by an export have one",
    );
    const missing = await api("/buckets/demo-exports/manifests/2021-09-22-99/my_file.csv");
    assert.equal(missing.status, 404);
    assert.equal(
      (await json(missing)).error.message,
      "object s3://demo-exports/2021-09-22-99/my_file.csv does not exist",
    );
    const dotdot = await api("/buckets/demo-exports/manifests/a%2F..%2Fb.csv");
    assert.equal(dotdot.status, 400);
  });

  it("a download that started keeps its version whole while the object is replaced", async () => {
    await runtime.lake.createBucket("replaced");
    const size = 5 * 1024 * 1024;
    const v1 = Buffer.alloc(size, 0x31);
    const v2 = Buffer.alloc(size, 0x32);
    await runtime.lake.putObject("replaced", "file.csv", v1);
    const response = await api("/buckets/replaced/objects/file.csv");
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [(await reader.read()).value!];
    await runtime.lake.putObject("replaced", "file.csv", v2);
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    assert.equal(response.headers.get("etag"), `"${md5(v1)}"`);
    assert.ok(Buffer.concat(chunks).equals(v1), "the whole first version");
  });

  it("never yields the last bytes of a body that does not match the head it was announced with", async () => {
    const announced = { size: 8, etag: md5("aaaabbbb"), lastModified: new Date(), contentType: "text/plain" };
    async function* replaced() {
      yield Buffer.from("aaaa");
      yield Buffer.from("cccc");
    }
    const yielded: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of checkedBytes(replaced(), announced, null, "s3://b/k"))
        yielded.push(Buffer.from(chunk).toString());
    }, /s3:\/\/b\/k was replaced while it was being read: try again/);
    assert.deepEqual(yielded, ["aaaa"], "the last chunk is held back");
    async function* shorter() {
      yield Buffer.from("aaaabbb");
    }
    await assert.rejects(async () => {
      for await (const _ of checkedBytes(shorter(), announced, { start: 0, end: 3 }, "s3://b/k"));
    }, /was replaced/);
  });

  it("an upload cut short leaves the previous object whole and no temp file", async () => {
    await runtime.lake.createBucket("uploads");
    const previous = "the previous version\n";
    await runtime.lake.putObject("uploads", "data.csv", previous);
    const tempDir = path.join(runtime.config.lakeDir, ".tmp");
    const parts = () =>
      fs.existsSync(tempDir) ? fs.readdirSync(tempDir).filter((f) => f.endsWith(".part")) : [];
    assert.deepEqual(parts(), []);

    const url = new URL(`${base}/api/v1/buckets/uploads/objects/data.csv`);
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "PUT",
      headers: { "content-length": String(4 * 1024 * 1024), "content-type": "text/csv" },
    });
    request.on("error", () => {}); // the test cuts the connection itself
    request.write(Buffer.alloc(256 * 1024, 0x61));
    // The server is writing the upload to its temp file: now the client goes away.
    await until("the upload's temp file", () => parts().length === 1);
    request.destroy();
    await until("the temp file to be removed", () => parts().length === 0);

    const got = await api("/buckets/uploads/objects/data.csv");
    assert.equal(await got.text(), previous);
    assert.equal(got.headers.get("etag"), `"${md5(previous)}"`);
  });
});
