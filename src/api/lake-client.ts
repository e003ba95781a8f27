/**
 * The lake over the REST API (src/api/rest/lake-routes.ts), for the CLI while a server runs. It
 * offers the lake calls the CLI uses, with the lake's own semantics (null for a missing object's
 * head, errors as HourglassErrors), so commands do not care which lake they have.
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { type ErrorCode, HourglassError } from "../errors.js";
import type {
  Lake,
  ListOptions,
  ListResult,
  ObjectBody,
  ObjectHead,
  PutOptions,
  PutResult,
} from "../lake/index.js";
import type { ManifestFound } from "../operators/index.js";
import type { HttpClient } from "./client.js";

/** The lake calls the CLI's `lake` commands make, and reading a manifest. */
export interface LakeClient
  extends Pick<
    Lake,
    | "createBucket"
    | "listBuckets"
    | "deleteBucket"
    | "putObject"
    | "getObjectStream"
    | "headObject"
    | "listObjects"
    | "deleteObject"
  > {
  readManifest(bucket: string, key: string): Promise<ManifestFound>;
}

const enc = encodeURIComponent;
/** The whole key as one path segment: `/` as %2F, so no URL library rewrites `.` or `..`. */
const objectRoute = (bucket: string, key: string) => `/api/v1/buckets/${enc(bucket)}/objects/${enc(key)}`;
const unquote = (etag: string): string => etag.replace(/^"|"$/g, "");

interface ListPage {
  Contents: { Key: string; Size: number; ETag: string; LastModified: string }[];
  CommonPrefixes: { Prefix: string }[];
  IsTruncated: boolean;
  NextStartAfter?: string;
}

export class RemoteLake implements LakeClient {
  constructor(private readonly http: HttpClient) {}

  async createBucket(bucket: string): Promise<void> {
    await this.http.call("POST", "/api/v1/buckets", { Bucket: bucket });
  }
  async listBuckets(): Promise<string[]> {
    const { Buckets } = await this.http.call<{ Buckets: { Name: string }[] }>("GET", "/api/v1/buckets");
    return Buckets.map((b) => b.Name);
  }
  async deleteBucket(bucket: string): Promise<void> {
    await this.http.call("DELETE", `/api/v1/buckets/${enc(bucket)}`);
  }
  async listObjects(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    const query = new URLSearchParams();
    if (options.prefix) query.set("prefix", options.prefix);
    if (options.delimiter) query.set("delimiter", options.delimiter);
    if (options.startAfter) query.set("start-after", options.startAfter);
    if (options.maxKeys !== undefined) query.set("max-keys", String(options.maxKeys));
    const page = await this.http.call<ListPage>("GET", `/api/v1/buckets/${enc(bucket)}/objects?${query}`);
    return {
      objects: page.Contents.map((o) => ({
        key: o.Key,
        size: o.Size,
        etag: unquote(o.ETag),
        lastModified: new Date(o.LastModified),
      })),
      commonPrefixes: page.CommonPrefixes.map((p) => p.Prefix),
      isTruncated: page.IsTruncated,
      ...(page.NextStartAfter === undefined ? {} : { nextStartAfter: page.NextStartAfter }),
    };
  }
  async headObject(bucket: string, key: string): Promise<ObjectHead | null> {
    const response = await this.#send("HEAD", objectRoute(bucket, key));
    if (response.status === 404) {
      // A HEAD answer has no body to say which is missing: a listing of the bucket tells (NotFound if it is).
      await this.listObjects(bucket, { maxKeys: 1 });
      return null;
    }
    if (!response.ok) {
      // Nor does it say what was wrong (a bad key): the same request as a GET of one byte does.
      const explained = await this.#send("GET", objectRoute(bucket, key), {
        headers: { range: "bytes=0-0" },
      });
      if (!explained.ok) throw await errorOf(explained, `GET ${objectRoute(bucket, key)}`);
      await explained.body?.cancel();
      throw await errorOf(response, `HEAD ${objectRoute(bucket, key)}`);
    }
    const header = (name: string) => response.headers.get(name) ?? "";
    return {
      size: Number(header("content-length")),
      etag: unquote(header("etag")),
      lastModified: new Date(header("last-modified")),
      contentType: header("content-type"),
    };
  }
  getObjectStream(bucket: string, key: string): Readable {
    const client = this;
    const route = objectRoute(bucket, key);
    return Readable.from(
      (async function* () {
        const response = await client.#send("GET", route);
        if (!response.ok) throw await errorOf(response, `GET ${route}`);
        if (response.body === null) return;
        try {
          yield* Readable.fromWeb(response.body as unknown as NodeWebReadableStream<Uint8Array>);
        } catch (error) {
          // The server cuts the body when the object changed while it was sent (or it stopped).
          throw new HourglassError(
            "Internal",
            `the download of s3://${bucket}/${key} was cut short (${error instanceof Error ? error.message : String(error)}): the object may have been replaced meanwhile; try again`,
            { cause: error, retryable: true },
          );
        }
      })(),
      { objectMode: false },
    );
  }
  async putObject(
    bucket: string,
    key: string,
    body: ObjectBody,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const route = objectRoute(bucket, key);
    // Always a content type (the lake's default when none is given): a bodied request without one
    // is what a web page can send cross-site, and a guarded server refuses it.
    const headers = { "content-type": options.contentType ?? "application/octet-stream" };
    // A stream is sent as it is read (chunked), never buffered whole.
    const payload = body instanceof Readable ? (Readable.toWeb(body) as unknown as ReadableStream) : body;
    const response = await this.#send("PUT", route, { body: payload, headers, duplex: "half" });
    if (!response.ok) throw await errorOf(response, `PUT ${route}`);
    const result = (await response.json()) as { ETag: string; Size: number; Sha256: string };
    return { etag: unquote(result.ETag), size: result.Size, sha256: result.Sha256 };
  }
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.http.call("DELETE", objectRoute(bucket, key));
  }
  readManifest(bucket: string, key: string): Promise<ManifestFound> {
    return this.http
      .call<{ Bucket: string; Key: string; ManifestKey: string; Manifest: ManifestFound["manifest"] }>(
        "GET",
        `/api/v1/buckets/${enc(bucket)}/manifests/${enc(key)}`,
      )
      .then((r) => ({ bucket: r.Bucket, key: r.Key, manifestKey: r.ManifestKey, manifest: r.Manifest }));
  }

  async #send(
    method: string,
    route: string,
    init: RequestInit & { duplex?: "half" } = {},
  ): Promise<Response> {
    try {
      return await fetch(new URL(route, this.http.baseUrl), { ...init, method });
    } catch (error) {
      throw new HourglassError(
        "Internal",
        `cannot reach the Hourglass server at ${this.http.baseUrl}: ${String(error)}`,
        {
          retryable: true,
        },
      );
    }
  }
}

/** The REST error body as a HourglassError (its code and message), whatever the route. */
async function errorOf(response: Response, what: string): Promise<HourglassError> {
  const text = await response.text().catch(() => "");
  let error: { code?: ErrorCode; message?: string; context?: Record<string, unknown> } = {};
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
  } catch {
    // Not our error shape (a proxy's page): the status says enough.
  }
  const fallback: ErrorCode =
    response.status === 404 ? "NotFound" : response.status < 500 ? "ValidationError" : "Internal";
  return new HourglassError(error.code ?? fallback, error.message ?? `HTTP ${response.status} from ${what}`, {
    context: error.context,
  });
}
