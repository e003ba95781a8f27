/**
 * The S3 endpoint with the AWS SDK for JavaScript v3 (S3Client, its default aws-chunked uploads
 * with CRC32 trailers), and raw HTTP for what the SDK would not send.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { s3SignedHeaders } from "../support/sigv4.js";
import { credentials, failure, rawAwsCall } from "./helpers.js";
import {
  md5,
  randomContent,
  type S3TestServer,
  s3Client,
  sha256,
  startS3TestServer,
  tempFiles,
} from "./s3-helpers.js";

/**
 * A raw HTTP/1.1 request: the path goes out exactly as given (fetch would normalise `..`). Signed
 * with the test key as S3 clients sign (UNSIGNED-PAYLOAD unless x-amz-content-sha256 is given),
 * unless `unsigned`: requests that are not S3's (REST, /health) are sent as they are.
 */
async function rawRequest(
  url: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; unsigned?: boolean } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port, host } = new URL(url);
  const headers = options.unsigned
    ? options.headers
    : await s3SignedHeaders(credentials, {
        method,
        host: options.headers?.["host"] ?? host,
        pathAndQuery: path,
        headers: options.headers,
      });
  return new Promise((resolve, reject) => {
    const request = http.request({ hostname, port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode!,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

const codeOf = (xml: string) => xml.match(/<Code>([^<]*)<\/Code>/)?.[1];
const statusOf = (error: Record<string, unknown>) =>
  (error["$metadata"] as { httpStatusCode?: number }).httpStatusCode;

async function bodyBytes(client: S3Client, bucket: string, key: string, range?: string) {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return { got, bytes: Buffer.from(await got.Body!.transformToByteArray()) };
}

describe("S3 endpoint with the AWS SDK for JavaScript v3", () => {
  let t: S3TestServer;
  let s3: S3Client;
  /** Headers of the SDK's last request, to show which body encoding it used. */
  let lastRequestHeaders: Record<string, string> = {};

  before(async () => {
    t = await startS3TestServer();
    s3 = s3Client(t.server.url);
    s3.middlewareStack.add(
      (next) => async (args) => {
        lastRequestHeaders = { ...(args.request as { headers: Record<string, string> }).headers };
        return next(args);
      },
      { step: "finalizeRequest", name: "recordHeaders" },
    );
    await s3.send(new CreateBucketCommand({ Bucket: "data" }));
  });
  after(async () => {
    s3?.destroy();
    await t?.close();
  });

  it("creates, lists, heads and deletes buckets, with S3's errors", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "scratch" }));
    const listed = await s3.send(new ListBucketsCommand({}));
    const names = listed.Buckets!.map((b) => b.Name);
    assert.deepEqual(names, ["data", "scratch"]);
    assert.ok(listed.Buckets![1]!.CreationDate instanceof Date);
    assert.ok(Math.abs(listed.Buckets![1]!.CreationDate!.getTime() - Date.now()) < 60_000);
    await s3.send(new HeadBucketCommand({ Bucket: "scratch" }));

    const again = await failure(s3.send(new CreateBucketCommand({ Bucket: "scratch" })));
    assert.equal(again.name, "BucketAlreadyOwnedByYou");
    assert.equal(statusOf(again), 409);

    const badName = await failure(s3.send(new CreateBucketCommand({ Bucket: "Bad_Name" })));
    assert.equal(badName.name, "InvalidBucketName");
    assert.match(badName.message, /Bad_Name/);

    await s3.send(new PutObjectCommand({ Bucket: "scratch", Key: "keep.txt", Body: "x" }));
    const notEmpty = await failure(s3.send(new DeleteBucketCommand({ Bucket: "scratch" })));
    assert.equal(notEmpty.name, "BucketNotEmpty");
    assert.equal(statusOf(notEmpty), 409);
    await s3.send(new DeleteObjectCommand({ Bucket: "scratch", Key: "keep.txt" }));
    await s3.send(new DeleteBucketCommand({ Bucket: "scratch" }));

    const gone = await failure(s3.send(new HeadBucketCommand({ Bucket: "scratch" })));
    assert.equal(statusOf(gone), 404);
    const noBucket = await failure(s3.send(new ListObjectsV2Command({ Bucket: "scratch" })));
    assert.equal(noBucket.name, "NoSuchBucket");
    const putNoBucket = await failure(
      s3.send(new PutObjectCommand({ Bucket: "scratch", Key: "k", Body: "x" })),
    );
    assert.equal(putNoBucket.name, "NoSuchBucket");
  });

  it("round-trips a 3 MB object sent aws-chunked with a CRC32 trailer, with its metadata and headers", async () => {
    const content = randomContent(3 * 1024 * 1024 + 17);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: "data",
        Key: "2021-09-22-16/my_file.csv",
        // A stream of unknown hash: the SDK frames it as aws-chunked with a trailing checksum.
        Body: (await import("node:stream")).Readable.from([
          content.subarray(0, 1_000_000),
          content.subarray(1_000_000),
        ]),
        ContentLength: content.length,
        ContentType: "text/csv",
        Metadata: { source: "seed", hour: "16" },
      }),
    );
    assert.equal(lastRequestHeaders["content-encoding"], "aws-chunked");
    assert.equal(lastRequestHeaders["x-amz-trailer"], "x-amz-checksum-crc32");
    assert.equal(put.ETag, `"${md5(content)}"`);

    const { got, bytes } = await bodyBytes(s3, "data", "2021-09-22-16/my_file.csv");
    assert.equal(sha256(bytes), sha256(content));
    assert.equal(got.ContentLength, content.length);
    assert.equal(got.ContentType, "text/csv");
    assert.equal(got.ETag, put.ETag);
    assert.deepEqual(got.Metadata, { source: "seed", hour: "16" });
    assert.ok(got.LastModified instanceof Date);

    const head = await s3.send(new HeadObjectCommand({ Bucket: "data", Key: "2021-09-22-16/my_file.csv" }));
    assert.equal(head.ContentLength, content.length);
    assert.equal(head.ETag, put.ETag);
    assert.deepEqual(head.Metadata, { source: "seed", hour: "16" });

    const raw = await rawRequest(t.server.url, "GET", "/data/2021-09-22-16/my_file.csv", {
      headers: { range: "bytes=0-0" },
    });
    assert.match(
      String(raw.headers["last-modified"]),
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.match(String(raw.headers["x-amz-request-id"]), /^[0-9A-F]{16}$/);
  });

  it("refuses a body whose checksum does not match, and keeps the old object", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "checked.txt", Body: "old" }));
    const wrong = await failure(
      s3.send(
        new PutObjectCommand({ Bucket: "data", Key: "checked.txt", Body: "new", ChecksumCRC32: "AAAAAA==" }),
      ),
    );
    assert.equal(wrong.name, "BadDigest");
    assert.match(wrong.message, /CRC32/);
    const { bytes } = await bodyBytes(s3, "data", "checked.txt");
    assert.equal(bytes.toString(), "old");

    const crc32c = await s3.send(
      new PutObjectCommand({ Bucket: "data", Key: "checked.txt", Body: "new", ChecksumAlgorithm: "CRC32C" }),
    );
    assert.equal(crc32c.ETag, `"${md5(Buffer.from("new"))}"`);
    const sha = await s3.send(
      new PutObjectCommand({
        Bucket: "data",
        Key: "checked.txt",
        Body: "newer",
        ChecksumAlgorithm: "SHA256",
      }),
    );
    assert.equal(sha.ETag, `"${md5(Buffer.from("newer"))}"`);
  });

  it("serves byte ranges: closed, open and suffix (206 + Content-Range), and 416 past the end", async () => {
    const content = Buffer.from("0123456789abcdefghij");
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "range.bin", Body: content }));
    const cases: [string, string, string][] = [
      ["bytes=2-5", "2345", "bytes 2-5/20"],
      ["bytes=15-", "fghij", "bytes 15-19/20"],
      ["bytes=-3", "hij", "bytes 17-19/20"],
      ["bytes=18-99", "ij", "bytes 18-19/20"],
      ["bytes=-50", content.toString(), "bytes 0-19/20"],
    ];
    for (const [range, expected, contentRange] of cases) {
      const { got, bytes } = await bodyBytes(s3, "data", "range.bin", range);
      assert.equal(bytes.toString(), expected, range);
      assert.equal(got.ContentRange, contentRange, range);
      assert.equal(got.$metadata.httpStatusCode, 206, range);
      assert.equal(got.ContentLength, expected.length, range);
    }
    const past = await failure(
      s3.send(new GetObjectCommand({ Bucket: "data", Key: "range.bin", Range: "bytes=20-" })),
    );
    assert.equal(past.name, "InvalidRange");
    assert.equal(statusOf(past), 416);
    // A range HTTP calls invalid is ignored: the whole object.
    const { got, bytes } = await bodyBytes(s3, "data", "range.bin", "bytes=5-2");
    assert.equal(got.$metadata.httpStatusCode, 200);
    assert.equal(bytes.toString(), content.toString());
  });

  it("lists with prefix, delimiter, max-keys and continuation tokens (v2), start-after, and markers (v1)", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "listing" }));
    const keys = ["a.csv", "b/1.csv", "b/2.csv", "c/x/1.csv", "c/y.csv", "d.csv", "e f+g.csv"];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: "listing", Key: key, Body: key }));

    const entries: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: "listing", Delimiter: "/", MaxKeys: 2, ContinuationToken: token }),
      );
      pages++;
      assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
      entries.push(
        ...(page.Contents ?? []).map((c) => c.Key!),
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
      );
      token = page.NextContinuationToken;
      assert.equal(page.IsTruncated, token !== undefined);
    } while (token);
    assert.deepEqual(entries.sort(), ["a.csv", "b/", "c/", "d.csv", "e f+g.csv"]);
    assert.equal(pages, 3);

    const underC = await s3.send(
      new ListObjectsV2Command({ Bucket: "listing", Prefix: "c/", Delimiter: "/" }),
    );
    assert.deepEqual(
      underC.Contents!.map((c) => c.Key),
      ["c/y.csv"],
    );
    assert.deepEqual(
      underC.CommonPrefixes!.map((p) => p.Prefix),
      ["c/x/"],
    );
    const first = underC.Contents![0]!;
    assert.equal(first.Size, "c/y.csv".length);
    assert.equal(first.ETag, `"${md5(Buffer.from("c/y.csv"))}"`);

    const afterB = await s3.send(new ListObjectsV2Command({ Bucket: "listing", StartAfter: "b/2.csv" }));
    assert.deepEqual(
      afterB.Contents!.map((c) => c.Key),
      ["c/x/1.csv", "c/y.csv", "d.csv", "e f+g.csv"],
    );

    const v1 = await s3.send(new ListObjectsCommand({ Bucket: "listing", MaxKeys: 3 }));
    assert.equal(v1.IsTruncated, true);
    assert.equal(v1.NextMarker, "b/2.csv");
    const v1next = await s3.send(new ListObjectsCommand({ Bucket: "listing", Marker: v1.NextMarker }));
    assert.deepEqual(
      v1next.Contents!.map((c) => c.Key),
      ["c/x/1.csv", "c/y.csv", "d.csv", "e f+g.csv"],
    );

    const encoded = await rawRequest(t.server.url, "GET", "/listing?list-type=2&prefix=e&encoding-type=url");
    assert.match(encoded.body, /<Key>e%20f%2Bg\.csv<\/Key>/);
    assert.match(encoded.body, /<EncodingType>url<\/EncodingType>/);
    const badToken = await failure(
      s3.send(new ListObjectsV2Command({ Bucket: "listing", ContinuationToken: "not-a-token" })),
    );
    assert.equal(badToken.name, "InvalidArgument");
  });

  it("copies objects, keeping or replacing metadata, and refuses a copy onto itself without REPLACE", async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: "data",
        Key: "src.csv",
        Body: "a,b\n",
        ContentType: "text/csv",
        Metadata: { m: "1" },
      }),
    );
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: "data", Key: "copies/dst.csv", CopySource: "data/src.csv" }),
    );
    assert.equal(copied.CopyObjectResult!.ETag, `"${md5(Buffer.from("a,b\n"))}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "data", Key: "copies/dst.csv" }));
    assert.equal(head.ContentType, "text/csv");
    assert.deepEqual(head.Metadata, { m: "1" });

    await s3.send(
      new CopyObjectCommand({
        Bucket: "data",
        Key: "src.csv",
        CopySource: "/data/src.csv",
        MetadataDirective: "REPLACE",
        ContentType: "text/plain",
        Metadata: { m: "2" },
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: "data", Key: "src.csv" }));
    assert.equal(replaced.ContentType, "text/plain");
    assert.deepEqual(replaced.Metadata, { m: "2" });

    const self = await failure(
      s3.send(new CopyObjectCommand({ Bucket: "data", Key: "src.csv", CopySource: "data/src.csv" })),
    );
    assert.equal(self.name, "InvalidRequest");
    const missing = await failure(
      s3.send(new CopyObjectCommand({ Bucket: "data", Key: "x.csv", CopySource: "data/no-such.csv" })),
    );
    assert.equal(missing.name, "NoSuchKey");
  });

  it("deletes one object, and many with DeleteObjects (a refused key gets its own error)", async () => {
    for (const key of ["del/1", "del/2", "del/3"])
      await s3.send(new PutObjectCommand({ Bucket: "data", Key: key, Body: key }));
    await s3.send(new DeleteObjectCommand({ Bucket: "data", Key: "del/1" }));
    await s3.send(new DeleteObjectCommand({ Bucket: "data", Key: "del/never-existed" }));
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: "data",
        Delete: { Objects: [{ Key: "del/2" }, { Key: "del/3" }, { Key: "del/../escape" }] },
      }),
    );
    assert.deepEqual(result.Deleted!.map((d) => d.Key).sort(), ["del/2", "del/3"]);
    assert.equal(result.Errors!.length, 1);
    assert.equal(result.Errors![0]!.Key, "del/../escape");
    assert.equal(result.Errors![0]!.Code, "InvalidArgument");
    const left = await s3.send(new ListObjectsV2Command({ Bucket: "data", Prefix: "del/" }));
    assert.equal(left.KeyCount, 0);

    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: "data", Delete: { Objects: [{ Key: "del/2" }], Quiet: true } }),
    );
    assert.equal(quiet.Deleted, undefined);
  });

  it("answers NoSuchKey, NoSuchBucket, MalformedXML, KeyTooLongError and refused keys in S3's XML", async () => {
    const noKey = await failure(s3.send(new GetObjectCommand({ Bucket: "data", Key: "missing.csv" })));
    assert.equal(noKey.name, "NoSuchKey");
    assert.equal(statusOf(noKey), 404);
    const headMissing = await failure(s3.send(new HeadObjectCommand({ Bucket: "data", Key: "missing.csv" })));
    assert.equal(statusOf(headMissing), 404);
    const noBucket = await failure(s3.send(new GetObjectCommand({ Bucket: "nothing-here", Key: "k" })));
    assert.equal(noBucket.name, "NoSuchBucket");

    const raw = await rawRequest(t.server.url, "GET", "/data/missing.csv");
    assert.equal(raw.status, 404);
    assert.equal(raw.headers["content-type"], "application/xml");
    assert.match(
      raw.body,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message>/,
    );
    assert.match(
      raw.body,
      /<Resource>\/data\/missing\.csv<\/Resource><RequestId>[0-9A-F]{16}<\/RequestId><\/Error>$/,
    );
    assert.equal(raw.body.match(/<RequestId>([^<]*)/)?.[1], raw.headers["x-amz-request-id"]);

    for (const body of [
      "<Delete><Object><Key>a</Key></Object>",
      "not xml",
      "<Other/>",
      "<!DOCTYPE x><Delete/>",
    ]) {
      const malformed = await rawRequest(t.server.url, "POST", "/data?delete", { body });
      assert.equal(malformed.status, 400, body);
      assert.equal(codeOf(malformed.body), "MalformedXML", body);
    }
    const badComplete = await rawRequest(t.server.url, "POST", "/data/k?uploadId=nope", { body: "<x" });
    assert.equal(codeOf(badComplete.body), "NoSuchUpload");

    const tooLong = await failure(
      s3.send(new PutObjectCommand({ Bucket: "data", Key: "k".repeat(1025), Body: "x" })),
    );
    assert.equal(tooLong.name, "KeyTooLongError");

    // The target goes out as written: the server must not resolve `..` into another key.
    const dotDot = await rawRequest(t.server.url, "PUT", "/data/a/../escape.txt", { body: "x" });
    assert.equal(dotDot.status, 400);
    assert.equal(codeOf(dotDot.body), "InvalidArgument");
    assert.match(dotDot.body, /a\/\.\.\/escape\.txt/);
    const encodedDots = await rawRequest(t.server.url, "PUT", "/data/%2e%2e/escape.txt", { body: "x" });
    assert.equal(encodedDots.status, 400);
    assert.match(encodedDots.body, /\.\.\/escape\.txt/);
    const escaped = await failure(s3.send(new HeadObjectCommand({ Bucket: "data", Key: "escape.txt" })));
    assert.equal(statusOf(escaped), 404);

    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "clash", Body: "an object" }));
    const clash = await failure(
      s3.send(new PutObjectCommand({ Bucket: "data", Key: "clash/under", Body: "x" })),
    );
    assert.equal(clash.name, "KeyConflict");
    assert.equal(statusOf(clash), 409);
    assert.match(clash.message, /clash/);

    // Announced, not sent: the answer comes before any byte of the body is read.
    const huge = await rawRequest(t.server.url, "PUT", "/data/huge.bin", {
      headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(6 * 1024 ** 3) },
      body: "0\r\n\r\n",
    });
    assert.equal(huge.status, 400);
    assert.equal(codeOf(huge.body), "EntityTooLarge");

    const badBucket = await rawRequest(t.server.url, "GET", "/UPPER?list-type=2");
    assert.equal(codeOf(badBucket.body), "InvalidBucketName");
    const unserved = await rawRequest(t.server.url, "GET", "/data?tagging");
    assert.equal(unserved.status, 501);
  });

  it("uploads in parts: list parts and uploads, complete with S3's multipart ETag, abort", async () => {
    const partOne = randomContent(5 * 1024 * 1024);
    const partTwo = randomContent(700_000);
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: "data",
        Key: "big/file.bin",
        ContentType: "application/x-test",
      }),
    );
    const uploadId = created.UploadId!;
    const one = await s3.send(
      new UploadPartCommand({
        Bucket: "data",
        Key: "big/file.bin",
        UploadId: uploadId,
        PartNumber: 1,
        Body: partOne,
      }),
    );
    const two = await s3.send(
      new UploadPartCommand({
        Bucket: "data",
        Key: "big/file.bin",
        UploadId: uploadId,
        PartNumber: 2,
        Body: partTwo,
      }),
    );
    assert.equal(one.ETag, `"${md5(partOne)}"`);

    const parts = await s3.send(
      new ListPartsCommand({ Bucket: "data", Key: "big/file.bin", UploadId: uploadId }),
    );
    assert.deepEqual(
      parts.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag]),
      [
        [1, partOne.length, one.ETag],
        [2, partTwo.length, two.ETag],
      ],
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "data" }));
    assert.deepEqual(
      uploads.Uploads!.map((u) => [u.Key, u.UploadId]),
      [["big/file.bin", uploadId]],
    );
    // Not visible before it completes.
    assert.equal(
      statusOf(await failure(s3.send(new HeadObjectCommand({ Bucket: "data", Key: "big/file.bin" })))),
      404,
    );

    const wrongOrder = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "data",
          Key: "big/file.bin",
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 2, ETag: two.ETag },
              { PartNumber: 1, ETag: one.ETag },
            ],
          },
        }),
      ),
    );
    assert.equal(wrongOrder.name, "InvalidPartOrder");
    const wrongEtag = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "data",
          Key: "big/file.bin",
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: two.ETag }] },
        }),
      ),
    );
    assert.equal(wrongEtag.name, "InvalidPart");

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "data",
        Key: "big/file.bin",
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: one.ETag },
            { PartNumber: 2, ETag: two.ETag },
          ],
        },
      }),
    );
    const expectedEtag = `"${md5(Buffer.concat([Buffer.from(md5(partOne), "hex"), Buffer.from(md5(partTwo), "hex")]))}-2"`;
    assert.equal(done.ETag, expectedEtag);
    const { got, bytes } = await bodyBytes(s3, "data", "big/file.bin");
    assert.equal(sha256(bytes), sha256(Buffer.concat([partOne, partTwo])));
    assert.equal(got.ETag, expectedEtag);
    assert.equal(got.ContentType, "application/x-test");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "data", Prefix: "big/" }));
    assert.equal(listed.Contents![0]!.ETag, expectedEtag);
    assert.deepEqual(tempFiles(t.lakeDir), []);

    const again = await failure(
      s3.send(new ListPartsCommand({ Bucket: "data", Key: "big/file.bin", UploadId: uploadId })),
    );
    assert.equal(again.name, "NoSuchUpload");
  });

  it("refuses small parts that are not last (EntityTooSmall), and abort leaves nothing behind", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "data", Key: "small.bin" }),
    );
    const etags: string[] = [];
    for (const partNumber of [1, 2]) {
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: "data",
          Key: "small.bin",
          UploadId,
          PartNumber: partNumber,
          Body: "tiny",
        }),
      );
      etags.push(part.ETag!);
    }
    const tooSmall = await failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "data",
          Key: "small.bin",
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
        }),
      ),
    );
    assert.equal(tooSmall.name, "EntityTooSmall");
    assert.equal(tempFiles(t.lakeDir).length, 2);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: "data", Key: "small.bin", UploadId }));
    assert.deepEqual(tempFiles(t.lakeDir), []);
    const aborted = await failure(
      s3.send(
        new UploadPartCommand({ Bucket: "data", Key: "small.bin", UploadId, PartNumber: 3, Body: "x" }),
      ),
    );
    assert.equal(aborted.name, "NoSuchUpload");
    assert.equal(
      statusOf(await failure(s3.send(new HeadObjectCommand({ Bucket: "data", Key: "small.bin" })))),
      404,
    );
  });

  it("builds a multipart object from ranges of another with UploadPartCopy", async () => {
    const source = randomContent(5 * 1024 * 1024 + 1000);
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "copy-source.bin", Body: source }));
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "data", Key: "assembled.bin" }),
    );
    const first = await s3.send(
      new UploadPartCopyCommand({
        Bucket: "data",
        Key: "assembled.bin",
        UploadId,
        PartNumber: 1,
        CopySource: "data/copy-source.bin",
        CopySourceRange: `bytes=0-${5 * 1024 * 1024 - 1}`,
      }),
    );
    const second = await s3.send(
      new UploadPartCopyCommand({
        Bucket: "data",
        Key: "assembled.bin",
        UploadId,
        PartNumber: 2,
        CopySource: "data/copy-source.bin",
        CopySourceRange: `bytes=${5 * 1024 * 1024}-${source.length - 1}`,
      }),
    );
    assert.equal(first.CopyPartResult!.ETag, `"${md5(source.subarray(0, 5 * 1024 * 1024))}"`);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "data",
        Key: "assembled.bin",
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    assert.equal(sha256((await bodyBytes(s3, "data", "assembled.bin")).bytes), sha256(source));
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: "data", Key: "x.bin" }));
    const partCopy = (key: string, range: string) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: "data",
          Key: key,
          UploadId: other.UploadId,
          PartNumber: 1,
          CopySource: "data/copy-source.bin",
          CopySourceRange: range,
        }),
      );
    assert.equal((await failure(partCopy("x.bin", "bytes=10-"))).name, "InvalidArgument", "an open range");
    assert.equal(
      (await failure(partCopy("assembled.bin", "bytes=0-9"))).name,
      "NoSuchUpload",
      "another key's upload",
    );
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: "data", Key: "x.bin", UploadId: other.UploadId }),
    );
  });

  it("answers conditional GETs (304, 412) and response-* overrides", async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: "data", Key: "cond.txt", Body: "conditional" }));
    const etag = put.ETag!;
    const notModified = await rawRequest(t.server.url, "GET", "/data/cond.txt", {
      headers: { "if-none-match": etag },
    });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, "");
    const changed = await rawRequest(t.server.url, "GET", "/data/cond.txt", {
      headers: { "if-none-match": '"other"' },
    });
    assert.equal(changed.status, 200);
    assert.equal(changed.body, "conditional");
    const failed = await rawRequest(t.server.url, "GET", "/data/cond.txt", {
      headers: { "if-match": '"other"' },
    });
    assert.equal(failed.status, 412);
    assert.equal(codeOf(failed.body), "PreconditionFailed");
    const since = await rawRequest(t.server.url, "GET", "/data/cond.txt", {
      headers: { "if-modified-since": new Date(Date.now() + 3_600_000).toUTCString() },
    });
    assert.equal(since.status, 304);
    const overridden = await rawRequest(
      t.server.url,
      "GET",
      "/data/cond.txt?response-content-type=text%2Fplain&response-content-disposition=attachment",
    );
    assert.equal(overridden.headers["content-type"], "text/plain");
    assert.equal(overridden.headers["content-disposition"], "attachment");
    const headRange = await rawRequest(t.server.url, "HEAD", "/data/cond.txt", {
      headers: { range: "bytes=0-3" },
    });
    assert.equal(headRange.status, 206);
    assert.equal(headRange.headers["content-range"], "bytes 0-3/11");
    assert.equal(headRange.headers["content-length"], "4");
  });

  it("serves virtual-host style (bucket.localhost) on the same port, the SDK's default addressing", async () => {
    // *.localhost does not resolve on every machine: the agent sends every name to 127.0.0.1.
    const lookup = (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
      options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4);
    const port = new URL(t.server.url).port;
    const virtual = s3Client(`http://localhost:${port}`, {
      forcePathStyle: false,
      requestHandler: { httpAgent: new http.Agent({ lookup: lookup as never }) },
    });
    const hosts: string[] = [];
    virtual.middlewareStack.add(
      (next) => async (args) => {
        hosts.push((args.request as { hostname: string }).hostname);
        return next(args);
      },
      { step: "finalizeRequest", name: "recordHost" },
    );
    try {
      await virtual.send(new CreateBucketCommand({ Bucket: "virtual" }));
      await virtual.send(new PutObjectCommand({ Bucket: "virtual", Key: "dir/file.txt", Body: "by host" }));
      const { bytes } = await bodyBytes(virtual, "virtual", "dir/file.txt");
      assert.equal(bytes.toString(), "by host");
      const listed = await virtual.send(new ListObjectsV2Command({ Bucket: "virtual" }));
      assert.deepEqual(
        listed.Contents!.map((c) => c.Key),
        ["dir/file.txt"],
      );
      const deleted = await virtual.send(
        new DeleteObjectsCommand({ Bucket: "virtual", Delete: { Objects: [{ Key: "dir/file.txt" }] } }),
      );
      assert.equal(deleted.Deleted!.length, 1);
      assert.ok(hosts.length > 0 && hosts.every((host) => host === "virtual.localhost"), hosts.join());
    } finally {
      virtual.destroy();
    }
    // Other host shapes clients use: <bucket>.s3.<domain>, and a key that looks like a REST path.
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "health", Body: "a key named health" }));
    const byS3Host = await rawRequest(t.server.url, "GET", "/health", {
      headers: { host: `data.s3.localhost:${port}` },
    });
    assert.equal(byS3Host.body, "a key named health");
    const listing = await rawRequest(t.server.url, "GET", "/?list-type=2&prefix=heal", {
      headers: { host: `data.s3.localhost:${port}` },
    });
    assert.match(listing.body, /<Name>data<\/Name>/);
    assert.match(listing.body, /<Key>health<\/Key>/);
    // A name that is not this machine's is refused by the Host guard (DNS rebinding) unless
    // allowedHosts names it (src/api/guards.ts).
    const foreign = await rawRequest(t.server.url, "GET", "/?list-type=2", {
      headers: { host: `data.s3.us-east-1.amazonaws.com:${port}` },
    });
    assert.equal(foreign.status, 421);
    assert.match(foreign.body, /allowedHosts/);
  });

  it("leaves /health, /api/v1 and the AWS JSON POST / to their owners, and serves a bucket named health to S3 clients", async () => {
    const health = await rawRequest(t.server.url, "GET", "/health", { unsigned: true });
    assert.deepEqual(JSON.parse(health.body), { status: "ok" });
    const rest = await rawRequest(t.server.url, "GET", "/api/v1/no/such/route", { unsigned: true });
    assert.equal(rest.status, 404);
    assert.equal(JSON.parse(rest.body).error.code, "NotFound");
    const cbor = await rawRequest(t.server.url, "POST", "/service/Kinesis/operation/ListStreams", {
      unsigned: true,
      headers: { "smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor" },
    });
    assert.equal(cbor.status, 404);
    assert.equal(
      JSON.parse(cbor.body).error.code,
      "NotFound",
      "a protocol not served is not mistaken for S3",
    );
    const timestream = await rawAwsCall(t.server.url, "Timestream_20181101.ListDatabases", "{}");
    assert.equal(timestream.status, 200);
    assert.deepEqual(timestream.json["Databases"], []);

    // Signed S3 requests are S3's on every path, so these bucket names work with SDKs.
    await s3.send(new CreateBucketCommand({ Bucket: "health" }));
    await s3.send(new CreateBucketCommand({ Bucket: "api" }));
    await s3.send(new PutObjectCommand({ Bucket: "api", Key: "v1/databases", Body: "not the REST API" }));
    const { bytes } = await bodyBytes(s3, "api", "v1/databases");
    assert.equal(bytes.toString(), "not the REST API");
    const inHealth = await s3.send(new ListObjectsV2Command({ Bucket: "health" }));
    assert.equal(inHealth.KeyCount, 0);
    // Unsigned, the same paths stay the REST API's.
    assert.equal((await rawRequest(t.server.url, "GET", "/health", { unsigned: true })).status, 200);
  });

  it("decodes aws-chunked bodies with chunk extensions and a trailer, and refuses broken ones", async () => {
    // STREAMING-UNSIGNED-PAYLOAD-TRAILER: chunk-signature extensions are framing only here (signed
    // chunks are checked in test/api/sigv4.test.ts).
    const put = (body: string, headers: Record<string, string> = {}) =>
      rawRequest(t.server.url, "PUT", "/data/chunked.txt", {
        headers: {
          "content-encoding": "aws-chunked",
          "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
          "x-amz-decoded-content-length": "11",
          "x-amz-trailer": "x-amz-checksum-sha256",
          ...headers,
        },
        body,
      });
    const digest = createHash("sha256").update("hello world").digest("base64");
    const framed = (checksum: string) =>
      `5;chunk-signature=${"a".repeat(64)}\r\nhello\r\n6;chunk-signature=${"b".repeat(64)}\r\n world\r\n` +
      `0;chunk-signature=${"c".repeat(64)}\r\nx-amz-checksum-sha256:${checksum}\r\nx-amz-trailer-signature:${"d".repeat(64)}\r\n\r\n`;
    const ok = await put(framed(digest));
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers.etag, `"${md5(Buffer.from("hello world"))}"`);
    assert.equal((await bodyBytes(s3, "data", "chunked.txt")).bytes.toString(), "hello world");

    const refused: [string, Record<string, string>, string][] = [
      [framed(createHash("sha256").update("other").digest("base64")), {}, "BadDigest"],
      ["5\r\nhello\r\n", { "x-amz-trailer": "" }, "IncompleteBody"], // no final chunk
      ["zz\r\nhello\r\n0\r\n\r\n", { "x-amz-trailer": "" }, "InvalidRequest"], // size not hex
      ["5\r\nhelloXX0\r\n\r\n", { "x-amz-trailer": "" }, "InvalidRequest"], // data not followed by CRLF
      ["5\r\nhello\r\n0\r\n\r\n", { "x-amz-trailer": "" }, "IncompleteBody"], // 5 bytes, 11 announced
      ["5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", {}, "InvalidRequest"], // announced trailer missing
    ];
    for (const [body, headers, code] of refused) {
      const answer = await put(body, headers);
      assert.equal(answer.status, 400, body);
      assert.equal(codeOf(answer.body), code, `${JSON.stringify(body)}: ${answer.body}`);
    }
    // Every refusal left the object as it was, and no temp file behind.
    assert.equal((await bodyBytes(s3, "data", "chunked.txt")).bytes.toString(), "hello world");
    assert.deepEqual(tempFiles(t.lakeDir), []);
  });

  it("keeps the old object when a client hangs up in the middle of an upload", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "hangup.bin", Body: "old version" }));
    const { port } = new URL(t.server.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const signed = await s3SignedHeaders(credentials, {
      method: "PUT",
      host: `127.0.0.1:${port}`,
      pathAndQuery: "/data/hangup.bin",
      headers: { "content-length": "1000000" },
    });
    const headerLines = Object.entries(signed)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(`PUT /data/hangup.bin HTTP/1.1\r\n${headerLines}\r\n`);
    socket.write(Buffer.alloc(400_000, 7));
    // Hang up once the partial body has reached the lake's temp folder: in the middle of the put.
    await waitFor(() => tempFiles(t.lakeDir).length > 0, "the upload to start writing");
    socket.destroy();
    await waitFor(() => tempFiles(t.lakeDir).length === 0, "the partial upload's temp file to be removed");
    assert.equal((await bodyBytes(s3, "data", "hangup.bin")).bytes.toString(), "old version");
  });
});

/** Polls `condition` (each turn of the event loop, up to 30 s) instead of sleeping a fixed time. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
