/** Bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket, DeleteObjects, and a bucket's location and versioning. */
import { isHourglassError, toHourglassError } from "../../../errors.js";
import { requestBodyBytes } from "./body.js";
import { type BucketContext, checkS3Key, emptyResponse, type S3Context, xmlResponse } from "./context.js";
import { s3CodeOf, s3Error } from "./errors.js";
import {
  childrenNamed,
  childText,
  parseXml,
  type XmlChild,
  type XmlElement,
  XmlSyntaxError,
  xmlDocument,
} from "./xml.js";

/** The region buckets report: any region works for clients, and us-east-1 needs no LocationConstraint. */
export const BUCKET_REGION = "us-east-1";
const OWNER: XmlChild[] = [
  ["ID", "hourglass"],
  ["DisplayName", "hourglass"],
];
/** DeleteObjects takes at most 1000 keys of at most 1 KiB: the XML of that fits in 2 MiB. */
const maxXmlBodyBytes = 2 * 1024 * 1024;
const maxDeleteKeys = 1000;

/** Reads and parses an XML request body whose root must be `root`; MalformedXML otherwise. */
export async function readXmlBody(
  context: S3Context,
  root: string,
  checksumHeadersAreBody = true,
): Promise<XmlElement | null> {
  const bytes = await requestBodyBytes(
    context.request,
    maxXmlBodyBytes,
    checksumHeadersAreBody,
    context.verified,
  );
  const text = bytes.toString("utf8");
  if (text.trim() === "") return null;
  let parsed: XmlElement;
  try {
    parsed = parseXml(text);
  } catch (error) {
    if (error instanceof XmlSyntaxError)
      throw s3Error("MalformedXML", `the XML you provided was not well-formed: ${error.message}`);
    throw error;
  }
  if (parsed.name !== root)
    throw s3Error("MalformedXML", `the XML you provided has root element <${parsed.name}>, not <${root}>`);
  return parsed;
}

export async function listBuckets(context: S3Context): Promise<Response> {
  const names = await context.lake.listBuckets();
  const buckets: XmlChild[] = [];
  for (const name of names) {
    const head = await context.lake.headBucket(name).catch(() => null);
    if (head === null) continue; // deleted meanwhile, or a folder that is no bucket name
    buckets.push([
      "Bucket",
      [
        ["Name", name],
        ["CreationDate", head.createdAt],
      ],
    ]);
  }
  return xmlResponse(
    xmlDocument("ListAllMyBucketsResult", [
      ["Owner", OWNER],
      ["Buckets", buckets],
    ]),
  );
}

export async function createBucket(context: BucketContext): Promise<Response> {
  // The configuration (a LocationConstraint) is read for well-formedness only: there is one region.
  await readXmlBody(context, "CreateBucketConfiguration");
  try {
    await context.lake.createBucket(context.bucket);
  } catch (error) {
    if (isHourglassError(error, "Conflict"))
      throw s3Error("BucketAlreadyOwnedByYou", `bucket ${context.bucket} already exists, and it is yours`, {
        bucket: context.bucket,
      });
    throw error;
  }
  return emptyResponse(200, { location: `/${context.bucket}` });
}

export async function deleteBucket(context: BucketContext): Promise<Response> {
  try {
    await context.lake.deleteBucket(context.bucket);
  } catch (error) {
    if (isHourglassError(error, "Conflict"))
      throw s3Error("BucketNotEmpty", `bucket ${context.bucket} is not empty: delete its objects first`, {
        bucket: context.bucket,
      });
    throw error;
  }
  await context.uploads.abortAll(context.bucket);
  return emptyResponse(204);
}

export async function headBucket(context: BucketContext): Promise<Response> {
  await requireBucket(context);
  return emptyResponse(200, { "x-amz-bucket-region": BUCKET_REGION });
}

export async function requireBucket(context: BucketContext): Promise<void> {
  if ((await context.lake.headBucket(context.bucket)) === null)
    throw s3Error("NoSuchBucket", `bucket ${context.bucket} does not exist`, { bucket: context.bucket });
}

export async function getBucketLocation(context: BucketContext): Promise<Response> {
  await requireBucket(context);
  // us-east-1 is the empty LocationConstraint.
  return xmlResponse(xmlDocument("LocationConstraint", []));
}

export async function getBucketVersioning(context: BucketContext): Promise<Response> {
  await requireBucket(context);
  // Never enabled: the element stays empty, as S3 answers for a bucket that never had versioning.
  return xmlResponse(xmlDocument("VersioningConfiguration", []));
}

export async function deleteObjects(context: BucketContext): Promise<Response> {
  const parsed = await readXmlBody(context, "Delete");
  if (parsed === null) throw s3Error("MalformedXML", "DeleteObjects needs a <Delete> body listing the keys");
  const objects = childrenNamed(parsed, "Object");
  if (objects.length === 0) throw s3Error("MalformedXML", "<Delete> lists no <Object>");
  if (objects.length > maxDeleteKeys)
    throw s3Error("MalformedXML", `<Delete> lists ${objects.length} objects: at most ${maxDeleteKeys}`);
  const keys = objects.map((object) => {
    const key = childText(object, "Key");
    if (key === undefined) throw s3Error("MalformedXML", "an <Object> in <Delete> has no <Key>");
    return key;
  });
  const quiet = (childText(parsed, "Quiet") ?? "").trim().toLowerCase() === "true";
  await requireBucket(context);

  const results: XmlChild[] = [];
  for (const key of keys) {
    try {
      checkS3Key(key, context.bucket);
      await context.lake.deleteObject(context.bucket, key);
      if (!quiet) results.push(["Deleted", [["Key", key]]]);
    } catch (thrown) {
      const error = toHourglassError(thrown);
      // Each key gets its own answer, as S3 gives it: one refused key does not stop the rest.
      results.push([
        "Error",
        [
          ["Key", key],
          ["Code", s3CodeOf(error)],
          ["Message", error.message],
        ],
      ]);
    }
  }
  return xmlResponse(xmlDocument("DeleteResult", results));
}
