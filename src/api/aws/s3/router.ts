/**
 * The S3 REST API over the lake: routes a request by method, by whether it names a bucket and a
 * key, and by its subresource (`?uploads`, `?uploadId=`, `?delete`, `?list-type=2`, …), and answers
 * every failure in S3's XML error shape.
 */
import { randomBytes } from "node:crypto";
import type { KeyLookup } from "../../../access/index.js";
import type { Lake } from "../../../lake/index.js";
import { MultipartUploads } from "../../../lake/index.js";
import { type S3Address, s3AddressOf } from "./addressing.js";
import { verifyS3Request } from "./auth.js";
import {
  createBucket,
  deleteBucket,
  deleteObjects,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
} from "./buckets.js";
import {
  type BucketContext,
  checkS3BucketName,
  checkS3Key,
  type ObjectContext,
  type S3Context,
} from "./context.js";
import { s3Error, s3ErrorAnswer } from "./errors.js";
import { listObjectsV1, listObjectsV2 } from "./listing.js";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from "./multipart.js";
import { copyObjectOperation, deleteObject, getObject, headObject, putObject } from "./objects.js";

/** What the app logs; pino's logger fits. */
export interface S3Logger {
  error(details: object, message?: string): void;
}

export interface S3EndpointOptions {
  lake: Lake;
  /** Receives failures that are bugs or broken dependencies (InternalError). */
  logger?: S3Logger;
  /** The keys signatures are checked against; absent or null: any credentials are accepted. */
  keys?: KeyLookup | null;
}

export interface S3Endpoint {
  /** Answers an S3 request. `rawTarget`: the request target as received, before URL normalisation. */
  handle(request: Request, rawTarget?: string): Promise<Response>;
  readonly uploads: MultipartUploads;
}

/** Subresources S3 has that Hourglass does not serve: answered 501 NotImplemented, naming them. */
const unservedSubresources = [
  "acl",
  "analytics",
  "accelerate",
  "cors",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "legal-hold",
  "lifecycle",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "requestPayment",
  "restore",
  "retention",
  "select",
  "tagging",
  "torrent",
  "versions",
  "website",
  "attributes",
];

export function createS3Endpoint(options: S3EndpointOptions): S3Endpoint {
  const uploads = new MultipartUploads(options.lake);
  return {
    uploads,
    async handle(request, rawTarget) {
      const requestId = randomBytes(8).toString("hex").toUpperCase();
      const common = { "x-amz-request-id": requestId, "x-amz-id-2": randomBytes(24).toString("base64") };
      let resource = new URL(request.url).pathname;
      let response: Response;
      try {
        const address = s3AddressOf(request, rawTarget);
        resource = address.resource;
        // Signed first: an unsigned or badly signed request learns nothing of buckets or keys.
        const verified = verifyS3Request(request, address, options.keys ?? null);
        response = await route({ request, address, lake: options.lake, uploads, requestId, verified });
      } catch (thrown) {
        const answer = s3ErrorAnswer(thrown, resource, requestId);
        if (answer.code === "InternalError")
          options.logger?.error({ err: thrown, method: request.method, path: resource }, "S3 request failed");
        // A HEAD answer has no body: the status (and the code in a header) tell what went wrong.
        response =
          request.method === "HEAD"
            ? new Response(null, { status: answer.status, headers: { "x-amz-error-code": answer.code } })
            : new Response(answer.body, {
                status: answer.status,
                headers: { "content-type": "application/xml" },
              });
      }
      for (const [name, value] of Object.entries(common)) response.headers.set(name, value);
      return response;
    },
  };
}

function has(address: S3Address, name: string): boolean {
  return address.query.has(name);
}

async function route(context: S3Context): Promise<Response> {
  const { request, address } = context;
  const method = request.method;
  if (address.bucket === null) {
    if (method === "GET") return listBuckets(context);
    throw s3Error("MethodNotAllowed", `${method} / is not an S3 operation: only GET / (ListBuckets) is`);
  }
  const bucket = checkS3BucketName(address.bucket);
  const bucketContext: BucketContext = { ...context, bucket };
  const unserved = unservedSubresources.find((name) => has(address, name));
  if (unserved !== undefined)
    throw s3Error(
      "NotImplemented",
      `the ?${unserved} subresource is not served by Hourglass (docs/api.md lists what is)`,
    );

  if (address.key === null) return routeBucket(bucketContext, method);
  const key = checkS3Key(address.key, bucket);
  return routeObject({ ...bucketContext, key }, method);
}

async function routeBucket(context: BucketContext, method: string): Promise<Response> {
  const { address } = context;
  switch (method) {
    case "GET":
      if (has(address, "uploads")) return listMultipartUploads(context);
      if (has(address, "location")) return getBucketLocation(context);
      if (has(address, "versioning")) return getBucketVersioning(context);
      if (address.query.get("list-type") === "2") return listObjectsV2(context);
      return listObjectsV1(context);
    case "HEAD":
      return headBucket(context);
    case "PUT":
      if (has(address, "versioning"))
        throw s3Error("NotImplemented", "bucket versioning cannot be enabled on Hourglass's lake");
      return createBucket(context);
    case "DELETE":
      return deleteBucket(context);
    case "POST":
      if (has(address, "delete")) return deleteObjects(context);
      throw s3Error("MethodNotAllowed", "POST on a bucket is only DeleteObjects (?delete)");
    default:
      throw s3Error("MethodNotAllowed", `${method} is not an S3 method`);
  }
}

async function routeObject(context: ObjectContext, method: string): Promise<Response> {
  const { address, request } = context;
  const isPart = has(address, "uploadId") && has(address, "partNumber");
  switch (method) {
    case "PUT": {
      const copySource = request.headers.get("x-amz-copy-source");
      if (isPart) return copySource === null ? uploadPart(context) : uploadPartCopy(context, copySource);
      if (copySource !== null) return copyObjectOperation(context, copySource);
      return putObject(context);
    }
    case "GET":
      if (has(address, "uploadId")) return listParts(context);
      return getObject(context);
    case "HEAD":
      return headObject(context);
    case "DELETE":
      if (has(address, "uploadId")) return abortMultipartUpload(context);
      return deleteObject(context);
    case "POST":
      if (has(address, "uploads")) return createMultipartUpload(context);
      if (has(address, "uploadId")) return completeMultipartUpload(context);
      throw s3Error("MethodNotAllowed", "POST on an object is only multipart (?uploads, ?uploadId=)");
    default:
      throw s3Error("MethodNotAllowed", `${method} is not an S3 method`);
  }
}
