/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads, over the lake's MultipartUploads staging.
 */
import { maxPartNumber } from "../../../lake/index.js";
import { requestBody } from "./body.js";
import { readXmlBody, requireBucket } from "./buckets.js";
import {
  type BucketContext,
  emptyResponse,
  integerParam,
  metadataFromHeaders,
  type ObjectContext,
  quoted,
  xmlResponse,
} from "./context.js";
import { s3Error } from "./errors.js";
import { parseCopySource, parseRangeHeader } from "./objects.js";
import { childrenNamed, childText, type XmlChild, xmlDocument } from "./xml.js";

const INITIATOR: XmlChild[] = [
  ["ID", "hourglass"],
  ["DisplayName", "hourglass"],
];

function uploadIdOf(context: BucketContext): string {
  const uploadId = context.address.query.get("uploadId");
  if (uploadId === null || uploadId === "") throw s3Error("InvalidArgument", "uploadId is missing");
  return uploadId;
}

function partNumberOf(context: BucketContext): number {
  const raw = context.address.query.get("partNumber") ?? "";
  const partNumber = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(partNumber >= 1 && partNumber <= maxPartNumber))
    throw s3Error(
      "InvalidArgument",
      `partNumber must be an integer from 1 to ${maxPartNumber}, got ${JSON.stringify(raw)}`,
    );
  return partNumber;
}

const where = (context: ObjectContext) => ({ bucket: context.bucket, key: context.key });

export async function createMultipartUpload(context: ObjectContext): Promise<Response> {
  const contentType = context.request.headers.get("content-type") || undefined;
  const upload = await context.uploads.create(context.bucket, context.key, {
    contentType,
    metadata: metadataFromHeaders(context.request.headers),
  });
  return xmlResponse(
    xmlDocument("InitiateMultipartUploadResult", [
      ["Bucket", context.bucket],
      ["Key", context.key],
      ["UploadId", upload.uploadId],
    ]),
  );
}

export async function uploadPart(context: ObjectContext): Promise<Response> {
  const uploadId = uploadIdOf(context);
  const partNumber = partNumberOf(context);
  // Checked before the body is read, so a bad upload id is answered at once.
  context.uploads.get(uploadId, where(context));
  const part = await context.uploads.uploadPart(
    uploadId,
    partNumber,
    requestBody(context.request, true, context.verified),
    where(context),
  );
  return emptyResponse(200, { etag: quoted(part.etag) });
}

export async function uploadPartCopy(context: ObjectContext, copySource: string): Promise<Response> {
  const uploadId = uploadIdOf(context);
  const partNumber = partNumberOf(context);
  context.uploads.get(uploadId, where(context));
  const source = parseCopySource(copySource);
  const rangeHeader = context.request.headers.get("x-amz-copy-source-range");
  const range = rangeHeader === null ? undefined : parseRangeHeader(rangeHeader);
  if (rangeHeader !== null && (range === undefined || "suffix" in range || range.end === undefined))
    throw s3Error(
      "InvalidArgument",
      `x-amz-copy-source-range ${JSON.stringify(rangeHeader)} must be bytes=<first>-<last>`,
    );
  const read = await context.lake.readObject(source.bucket, source.key, range);
  try {
    const part = await context.uploads.uploadPart(uploadId, partNumber, read.body, where(context));
    return xmlResponse(
      xmlDocument("CopyPartResult", [
        ["LastModified", part.lastModified],
        ["ETag", quoted(part.etag)],
      ]),
    );
  } finally {
    read.body.destroy();
  }
}

export async function completeMultipartUpload(context: ObjectContext): Promise<Response> {
  const uploadId = uploadIdOf(context);
  context.uploads.get(uploadId, where(context));
  // x-amz-checksum-* headers here are the whole object's, not this body's.
  const parsed = await readXmlBody(context, "CompleteMultipartUpload", false);
  if (parsed === null)
    throw s3Error("MalformedXML", "CompleteMultipartUpload needs a body listing the parts");
  const parts = childrenNamed(parsed, "Part").map((part) => {
    const number = (childText(part, "PartNumber") ?? "").trim();
    const etag = (childText(part, "ETag") ?? "").trim();
    if (!/^\d{1,5}$/.test(number) || etag === "")
      throw s3Error("MalformedXML", "each <Part> needs a <PartNumber> and an <ETag>");
    return { partNumber: Number(number), etag };
  });
  const result = await context.uploads.complete(uploadId, parts, where(context));
  const host = context.request.headers.get("host") ?? new URL(context.request.url).host;
  const path = context.address.virtualHost ? `/${context.key}` : `/${context.bucket}/${context.key}`;
  return xmlResponse(
    xmlDocument("CompleteMultipartUploadResult", [
      ["Location", `http://${host}${path.split("/").map(encodeURIComponent).join("/")}`],
      ["Bucket", context.bucket],
      ["Key", context.key],
      ["ETag", quoted(result.etag)],
    ]),
  );
}

export async function abortMultipartUpload(context: ObjectContext): Promise<Response> {
  await context.uploads.abort(uploadIdOf(context), where(context));
  return emptyResponse(204);
}

export async function listParts(context: ObjectContext): Promise<Response> {
  const uploadId = uploadIdOf(context);
  const { query } = context.address;
  const maxParts = Math.min(integerParam(query, "max-parts", 1000), 1000);
  const marker = integerParam(query, "part-number-marker", 0);
  const all = context.uploads.listParts(uploadId, where(context)).filter((part) => part.partNumber > marker);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  return xmlResponse(
    xmlDocument("ListPartsResult", [
      ["Bucket", context.bucket],
      ["Key", context.key],
      ["UploadId", uploadId],
      ["Initiator", INITIATOR],
      ["Owner", INITIATOR],
      ["StorageClass", "STANDARD"],
      ["PartNumberMarker", marker],
      ["NextPartNumberMarker", page.at(-1)?.partNumber ?? marker],
      ["MaxParts", maxParts],
      ["IsTruncated", truncated],
      ...page.map(
        (part): XmlChild => [
          "Part",
          [
            ["PartNumber", part.partNumber],
            ["LastModified", part.lastModified],
            ["ETag", quoted(part.etag)],
            ["Size", part.size],
          ],
        ],
      ),
    ]),
  );
}

export async function listMultipartUploads(context: BucketContext): Promise<Response> {
  await requireBucket(context);
  const { query } = context.address;
  const prefix = query.get("prefix") ?? "";
  const keyMarker = query.get("key-marker") ?? "";
  const uploadIdMarker = query.get("upload-id-marker") ?? "";
  const maxUploads = Math.min(integerParam(query, "max-uploads", 1000), 1000);
  const inPrefix = context.uploads
    .listUploads(context.bucket)
    .filter((upload) => upload.key.startsWith(prefix));
  // Uploads come by key, then by start: the page begins after the marker key, or after the
  // marker upload of that key when an upload-id marker is given.
  const markerIndex =
    uploadIdMarker === ""
      ? -1
      : inPrefix.findIndex((upload) => upload.key === keyMarker && upload.uploadId === uploadIdMarker);
  const uploads =
    markerIndex >= 0
      ? inPrefix.slice(markerIndex + 1)
      : inPrefix.filter(
          (upload) => keyMarker === "" || Buffer.compare(Buffer.from(upload.key), Buffer.from(keyMarker)) > 0,
        );
  const page = uploads.slice(0, maxUploads);
  const truncated = uploads.length > page.length;
  const last = page.at(-1);
  return xmlResponse(
    xmlDocument("ListMultipartUploadsResult", [
      ["Bucket", context.bucket],
      ["KeyMarker", keyMarker],
      ["UploadIdMarker", uploadIdMarker],
      ["NextKeyMarker", truncated && last ? last.key : ""],
      ["NextUploadIdMarker", truncated && last ? last.uploadId : ""],
      ["Prefix", prefix],
      ["MaxUploads", maxUploads],
      ["IsTruncated", truncated],
      ...page.map(
        (upload): XmlChild => [
          "Upload",
          [
            ["Key", upload.key],
            ["UploadId", upload.uploadId],
            ["Initiator", INITIATOR],
            ["Owner", INITIATOR],
            ["StorageClass", "STANDARD"],
            ["Initiated", upload.initiated],
          ],
        ],
      ),
    ]),
  );
}
