/**
 * REST routes of the lake (docs/api.md, "Lake"), mounted under /api/v1. Shapes follow S3's
 * (ListBuckets, ListObjectsV2, Get/Head/Put/DeleteObject) in JSON:
 *
 *   GET    /buckets                           { Buckets: [{ Name }] }
 *   POST   /buckets                           { Bucket } → 201 { Bucket }
 *   DELETE /buckets/:bucket                   204; 409 while it holds objects
 *   GET    /buckets/:bucket/objects           ?prefix=&delimiter=&start-after=&continuation-token=&max-keys=
 *   GET    /buckets/:bucket/objects/:key      the content, streamed; `Range: bytes=` honoured
 *   HEAD   /buckets/:bucket/objects/:key      the same headers, no body
 *   PUT    /buckets/:bucket/objects/:key      the body becomes the object, atomically → { ETag, Size, Sha256 }
 *   DELETE /buckets/:bucket/objects/:key      204 (a missing key too, as on S3)
 *   GET    /buckets/:bucket/manifests/:key    the export manifest beside the object
 *
 * Keys travel in the path; encode `/` as `%2F` or not, both work (a client that wants `..` in a
 * key sent verbatim must encode it, or its URL library removes it, and the lake refuses it anyway).
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { Hono } from "hono";
import { z } from "zod";
import { conflict, notFound, validationError } from "../../errors.js";
import type { Lake, ObjectHead } from "../../lake/index.js";
import { readExportManifest } from "../../operators/index.js";
import { restErrorBody } from "../errors.js";
import { defineRoute, isoTime } from "../openapi/index.js";

const createBucketSchema = z.strictObject({ Bucket: z.string().describe("S3's bucket name rules") });

const listQuerySchema = z.strictObject({
  prefix: z.string().optional(),
  delimiter: z.string().optional(),
  "start-after": z.string().optional(),
  "continuation-token": z.string().optional(),
  "max-keys": z
    .string()
    .regex(/^\d+$/, "must be an integer from 1 to 1000")
    .transform(Number)
    .pipe(z.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000"))
    .optional()
    .describe("1 to 1000, default 1000; keys plus common prefixes"),
});

const bucketParams = z.object({ bucket: z.string() });
const objectParams = bucketParams.extend({
  key: z.string().describe("the object's key, with / as it is or encoded as %2F"),
});

const listPageSchema = z
  .object({
    Name: z.string(),
    Prefix: z.string(),
    Delimiter: z.string().optional(),
    MaxKeys: z.number().int(),
    KeyCount: z.number().int(),
    IsTruncated: z.boolean(),
    Contents: z.array(
      z.object({
        Key: z.string(),
        Size: z.number().int(),
        ETag: z.string().describe("quoted, as S3 quotes it"),
        LastModified: isoTime,
      }),
    ),
    CommonPrefixes: z.array(z.object({ Prefix: z.string() })),
    StartAfter: z.string().optional(),
    ContinuationToken: z.string().optional(),
    NextContinuationToken: z.string().optional().describe("opaque: pass it back as continuation-token"),
    NextStartAfter: z
      .string()
      .optional()
      .describe("the page's last entry, for clients that page with start-after"),
  })
  .meta({ id: "ObjectList", description: "S3's ListObjectsV2, in JSON" });

const objectHeaderDocs = {
  "content-type": "as it was uploaded",
  "content-length": "bytes sent",
  etag: "the quoted MD5 of the content",
  "last-modified": "RFC 1123",
  "accept-ranges": "bytes",
};

const tag = "Lake";
const noBucket = { 404: "the bucket does not exist" };

/** ETags are quoted in HTTP headers and in S3's listings. */
const quoted = (etag: string): string => `"${etag}"`;

/**
 * The continuation token is the last entry of the page, base64url-encoded: opaque to clients, as
 * S3's is, and checkable here (a token this server did not give out does not round-trip).
 */
const encodeToken = (startAfter: string): string => Buffer.from(startAfter, "utf8").toString("base64url");
function decodeToken(token: string): string {
  const startAfter = Buffer.from(token, "base64url").toString("utf8");
  if (token === "" || encodeToken(startAfter) !== token) {
    throw validationError(`continuation-token ${JSON.stringify(token)} is not one this server gave out`, {
      token,
    });
  }
  return startAfter;
}

/** An inclusive byte range of an object. */
interface ByteRange {
  start: number;
  end: number;
}

/**
 * `Range: bytes=a-b`, `bytes=a-`, `bytes=-n` against an object of `size` bytes. Null: serve the
 * whole object (no header, several ranges, another unit, or a syntactically invalid one, which
 * RFC 9110 says to ignore). "unsatisfiable": the range starts past the end.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | null | "unsatisfiable" {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === "" ? Number.POSITIVE_INFINITY : Number(match[2]);
  if (last < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) };
}

/**
 * The object's bytes (or a range of them), checked against the head the response's headers came
 * from: the head and the read open the object separately, and an export re-run may replace it in
 * between. The whole file is read and its MD5 compared with the head's etag (a single-part etag;
 * other etags are checked by size only); the last chunk is held back until the check passes, so
 * a client never receives a complete-looking body that mixes versions: it sees the connection cut
 * short instead, and tries again. Reading the whole file for a range costs a disk read, no more.
 */
export async function* checkedBytes(
  source: AsyncIterable<Buffer>,
  head: ObjectHead,
  range: ByteRange | null,
  where: string,
): AsyncGenerator<Uint8Array> {
  const md5 = /^[0-9a-f]{32}$/.test(head.etag) ? createHash("md5") : null;
  const first = range?.start ?? 0;
  const last = range?.end ?? head.size - 1;
  let offset = 0;
  let held: Buffer | null = null;
  for await (const chunk of source) {
    md5?.update(chunk);
    const from = Math.max(first, offset) - offset;
    const to = Math.min(last + 1, offset + chunk.byteLength) - offset;
    offset += chunk.byteLength;
    if (to <= from) continue;
    if (held !== null) yield held;
    held = chunk.subarray(from, to);
  }
  if (offset !== head.size || (md5 !== null && md5.digest("hex") !== head.etag)) {
    throw conflict(`${where} was replaced while it was being read: try again`);
  }
  if (held !== null) yield held;
}

/** A web stream over an iterator whose first result is already known (so open errors came first). */
function streamOf(
  iterator: AsyncIterator<Uint8Array>,
  first: IteratorResult<Uint8Array>,
): ReadableStream<Uint8Array> {
  let pending: IteratorResult<Uint8Array> | null = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = pending ?? (await iterator.next());
      pending = null;
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.(undefined);
    },
  });
}

function objectHeaders(head: ObjectHead): Record<string, string> {
  return {
    "content-type": head.contentType,
    etag: quoted(head.etag),
    "last-modified": head.lastModified.toUTCString(),
    "accept-ranges": "bytes",
  };
}

const objectPath = "/buckets/:bucket/objects/:key{.+}";

export function lakeRoutes(lake: Lake): Hono {
  const app = new Hono();

  defineRoute(
    app,
    {
      method: "get",
      path: "/buckets",
      tag,
      summary: "List the buckets, by name",
      responses: {
        200: {
          description: "the buckets",
          schema: z.object({ Buckets: z.array(z.object({ Name: z.string() })) }),
        },
      },
    },
    async (c) => c.json({ Buckets: (await lake.listBuckets()).map((Name) => ({ Name })) }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/buckets",
      tag,
      summary: "Create a bucket",
      body: createBucketSchema,
      responses: { 201: { description: "created", schema: z.object({ Bucket: z.string() }) } },
      errors: { 409: "the bucket exists" },
    },
    async (c, { body }) => {
      await lake.createBucket(body.Bucket);
      return c.json({ Bucket: body.Bucket }, 201);
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/buckets/:bucket",
      tag,
      summary: "Delete an empty bucket",
      params: bucketParams,
      responses: { 204: { description: "deleted" } },
      errors: { ...noBucket, 409: "the bucket still holds objects" },
    },
    async (c, { params }) => {
      await lake.deleteBucket(params.bucket);
      return c.body(null, 204);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/buckets/:bucket/objects",
      tag,
      summary: "List objects (S3's ListObjectsV2), a page at a time",
      description:
        "UTF-8 byte order; delimiter rolls keys up into common prefixes. A continuation token takes precedence over start-after, as on S3. Unknown parameters are refused.",
      params: bucketParams,
      query: listQuerySchema,
      responses: { 200: { description: "one page", schema: listPageSchema } },
      errors: noBucket,
    },
    async (c, { params, query }) => {
      const { bucket } = params;
      const token = query["continuation-token"];
      // As on S3, a continuation token takes precedence over start-after.
      const startAfter = token !== undefined ? decodeToken(token) : query["start-after"];
      const page = await lake.listObjects(bucket, {
        prefix: query.prefix,
        delimiter: query.delimiter,
        startAfter,
        maxKeys: query["max-keys"],
      });
      return c.json({
        Name: bucket,
        Prefix: query.prefix ?? "",
        ...(query.delimiter === undefined ? {} : { Delimiter: query.delimiter }),
        MaxKeys: query["max-keys"] ?? 1000,
        KeyCount: page.objects.length + page.commonPrefixes.length,
        IsTruncated: page.isTruncated,
        Contents: page.objects.map((o) => ({
          Key: o.key,
          Size: o.size,
          ETag: quoted(o.etag),
          LastModified: o.lastModified.toISOString(),
        })),
        CommonPrefixes: page.commonPrefixes.map((Prefix) => ({ Prefix })),
        ...(query["start-after"] === undefined ? {} : { StartAfter: query["start-after"] }),
        ...(token === undefined ? {} : { ContinuationToken: token }),
        ...(page.nextStartAfter === undefined
          ? {}
          : { NextContinuationToken: encodeToken(page.nextStartAfter), NextStartAfter: page.nextStartAfter }),
      });
    },
  );

  // Hono answers HEAD with the GET route (dropping the body): the route reads nothing for HEAD.
  defineRoute(
    app,
    {
      method: "get",
      path: objectPath,
      tag,
      summary: "Download an object, streamed (one byte range with Range)",
      description:
        "The bytes sent are checked against the announced size and ETag: if an export replaces the object meanwhile, the connection is cut short instead of mixing two versions. Several ranges, or an invalid one, get the whole object. HEAD answers the same headers without the body (a 404 without a body too).",
      params: objectParams,
      headers: { range: "bytes=a-b, bytes=a- or bytes=-n (optional)" },
      answersHead: true,
      responses: {
        200: {
          description: "the content",
          contentType: "application/octet-stream",
          headers: objectHeaderDocs,
        },
        206: {
          description: "the range asked for",
          contentType: "application/octet-stream",
          headers: { ...objectHeaderDocs, "content-range": "bytes a-b/size" },
        },
      },
      errors: {
        404: "the bucket or the object does not exist",
        409: "the object was replaced while it was read: try again",
        416: "the range starts at or past the end (Content-Range: bytes */size)",
      },
    },
    async (c, { params }) => {
      const { bucket, key } = params;
      const where = `s3://${bucket}/${key}`;
      const head = await lake.headObject(bucket, key);
      if (head === null) throw notFound(`object ${where} does not exist`, { bucket, key });
      const range = parseByteRange(c.req.header("range"), head.size);
      if (range === "unsatisfiable") {
        const error = validationError(
          `range ${c.req.header("range")} starts past the end of ${where} (${head.size} bytes)`,
          { bucket, key, size: head.size },
        );
        c.header("content-range", `bytes */${head.size}`);
        return c.json(restErrorBody(error), 416);
      }
      const headers = objectHeaders(head);
      const length = range === null ? head.size : range.end - range.start + 1;
      headers["content-length"] = String(length);
      if (range !== null) headers["content-range"] = `bytes ${range.start}-${range.end}/${head.size}`;
      const status = range === null ? 200 : 206;
      if (c.req.method === "HEAD") return new Response(null, { status, headers });
      const source = lake.getObjectStream(bucket, key) as AsyncIterable<Buffer>;
      const iterator = checkedBytes(source, head, range, where);
      // The first chunk is read before answering: an object deleted since the head is a 404, not a cut.
      const first = await iterator.next();
      return new Response(streamOf(iterator, first), { status, headers });
    },
  );

  defineRoute(
    app,
    {
      method: "put",
      path: objectPath,
      tag,
      summary: "Upload an object (atomic: the old version or the new one, never a part)",
      params: objectParams,
      rawBody: {
        contentType: "application/octet-stream",
        description:
          "the content, any length, streamed to disk; its Content-Type (any) is kept with the object",
      },
      responses: {
        200: {
          description: "the object written",
          headers: { etag: "the quoted MD5 of the content" },
          schema: z.object({
            Bucket: z.string(),
            Key: z.string(),
            ETag: z.string(),
            Size: z.number().int(),
            Sha256: z.string(),
          }),
        },
      },
      errors: { ...noBucket, 409: "the key is a folder of other objects (a when a/b exists)" },
    },
    async (c, { params }) => {
      const { bucket, key } = params;
      const raw = c.req.raw.body;
      const body =
        raw === null
          ? new Uint8Array(0)
          : Readable.fromWeb(raw as unknown as NodeWebReadableStream<Uint8Array>);
      const contentType = c.req.header("content-type") || undefined;
      const result = await lake.putObject(bucket, key, body, { contentType });
      c.header("etag", quoted(result.etag));
      return c.json({
        Bucket: bucket,
        Key: key,
        ETag: quoted(result.etag),
        Size: result.size,
        Sha256: result.sha256,
      });
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: objectPath,
      tag,
      summary: "Delete an object (a key that does not exist too, as on S3)",
      params: objectParams,
      responses: { 204: { description: "deleted, or was not there" } },
      errors: noBucket,
    },
    async (c, { params }) => {
      await lake.deleteObject(params.bucket, params.key);
      return c.body(null, 204);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/buckets/:bucket/manifests/:key{.+}",
      tag,
      summary: "The export manifest beside an exported file (query, interval, run, code version, checksum)",
      params: objectParams.extend({ key: z.string().describe("the exported file's key, or its manifest's") }),
      responses: {
        200: {
          description: "the manifest",
          schema: z.object({
            Bucket: z.string(),
            Key: z.string(),
            ManifestKey: z.string(),
            Manifest: z.record(z.string(), z.unknown()).describe("docs/operators.md, manifests"),
          }),
        },
      },
      errors: { 404: "the file, or its manifest (only files written by an export have one), does not exist" },
    },
    async (c, { params }) => {
      const found = await readExportManifest(lake, params.bucket, params.key);
      return c.json({
        Bucket: params.bucket,
        Key: found.key,
        ManifestKey: found.manifestKey,
        Manifest: found.manifest,
      });
    },
  );

  return app;
}
