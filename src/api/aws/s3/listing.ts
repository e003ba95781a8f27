/**
 * ListObjectsV2 (`GET /bucket?list-type=2`) and ListObjects (v1, `GET /bucket`) over the lake's
 * listing: prefix, delimiter, paging (continuation-token / start-after, marker), max-keys, and
 * `encoding-type=url` (keys percent-encoded, for keys XML cannot carry).
 */
import type { ListResult } from "../../../lake/index.js";
import { type BucketContext, integerParam, quoted, xmlResponse } from "./context.js";
import { s3Error } from "./errors.js";
import { type XmlChild, xmlDocument } from "./xml.js";

const maxListKeys = 1000;
const tokenPrefix = "hg1.";

/** A continuation token: the last entry of the page, opaque to clients. */
function encodeToken(lastEntry: string): string {
  return tokenPrefix + Buffer.from(lastEntry, "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  if (!token.startsWith(tokenPrefix) || !/^[A-Za-z0-9_-]+$/.test(token.slice(tokenPrefix.length)))
    throw s3Error(
      "InvalidArgument",
      "the continuation token provided is incorrect: pass NextContinuationToken back as it came",
    );
  return Buffer.from(token.slice(tokenPrefix.length), "base64url").toString("utf8");
}

interface ListParams {
  prefix: string;
  delimiter: string | undefined;
  maxKeys: number;
  encode: (value: string) => string;
  encodingType: string | undefined;
}

function listParams(context: BucketContext): ListParams {
  const { query } = context.address;
  const encodingType = query.get("encoding-type") ?? undefined;
  if (encodingType !== undefined && encodingType !== "url")
    throw s3Error("InvalidArgument", `encoding-type ${JSON.stringify(encodingType)} is not known: use url`);
  return {
    prefix: query.get("prefix") ?? "",
    delimiter: query.get("delimiter") || undefined,
    maxKeys: Math.min(integerParam(query, "max-keys", maxListKeys), maxListKeys),
    encodingType,
    // Percent-encoding that keeps `/` (S3 does), and that both URL and form decoders undo.
    encode:
      encodingType === "url" ? (value) => encodeURIComponent(value).replace(/%2F/g, "/") : (value) => value,
  };
}

async function list(
  context: BucketContext,
  params: ListParams,
  startAfter: string | undefined,
): Promise<ListResult> {
  if (params.maxKeys === 0) return { objects: [], commonPrefixes: [], isTruncated: false };
  return context.lake.listObjects(context.bucket, {
    prefix: params.prefix,
    delimiter: params.delimiter,
    startAfter,
    maxKeys: params.maxKeys,
  });
}

function entries(result: ListResult, encode: (value: string) => string): XmlChild[] {
  return [
    ...result.objects.map(
      (object): XmlChild => [
        "Contents",
        [
          ["Key", encode(object.key)],
          ["LastModified", object.lastModified],
          ["ETag", quoted(object.etag)],
          ["Size", object.size],
          ["StorageClass", "STANDARD"],
        ],
      ],
    ),
    ...result.commonPrefixes.map((prefix): XmlChild => ["CommonPrefixes", [["Prefix", encode(prefix)]]]),
  ];
}

const optional = (name: string, value: string | undefined): XmlChild =>
  value === undefined ? undefined : [name, value];

export async function listObjectsV2(context: BucketContext): Promise<Response> {
  const params = listParams(context);
  const { query } = context.address;
  const token = query.get("continuation-token") ?? undefined;
  const startAfter = query.get("start-after") || undefined;
  // The token wins over start-after: it already lies past it.
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const result = await list(context, params, after);
  const { encode } = params;
  return xmlResponse(
    xmlDocument("ListBucketResult", [
      ["Name", context.bucket],
      ["Prefix", encode(params.prefix)],
      optional("Delimiter", params.delimiter === undefined ? undefined : encode(params.delimiter)),
      ["MaxKeys", params.maxKeys],
      optional("EncodingType", params.encodingType),
      ["KeyCount", result.objects.length + result.commonPrefixes.length],
      ["IsTruncated", result.isTruncated],
      optional("ContinuationToken", token),
      optional("NextContinuationToken", result.isTruncated ? encodeToken(result.nextStartAfter!) : undefined),
      optional("StartAfter", startAfter === undefined ? undefined : encode(startAfter)),
      ...entries(result, encode),
    ]),
  );
}

export async function listObjectsV1(context: BucketContext): Promise<Response> {
  const params = listParams(context);
  const marker = context.address.query.get("marker") || undefined;
  const result = await list(context, params, marker);
  const { encode } = params;
  return xmlResponse(
    xmlDocument("ListBucketResult", [
      ["Name", context.bucket],
      ["Prefix", encode(params.prefix)],
      ["Marker", marker === undefined ? "" : encode(marker)],
      optional("NextMarker", result.isTruncated ? encode(result.nextStartAfter!) : undefined),
      optional("Delimiter", params.delimiter === undefined ? undefined : encode(params.delimiter)),
      ["MaxKeys", params.maxKeys],
      optional("EncodingType", params.encodingType),
      ["IsTruncated", result.isTruncated],
      ...entries(result, encode),
    ]),
  );
}
