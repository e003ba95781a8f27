/**
 * How `hourglass lake` names things, in the habits of `aws s3`: lake objects as `s3://bucket/key`
 * (or `lake://bucket/key`; `bucket/key` where only a lake path makes sense), sizes and times as
 * `aws s3 ls` prints them.
 */
import path from "node:path";
import { validationError } from "../errors.js";
// The names module, not the lake's index.ts: paths are checked as commands parse (see main.ts).
import { checkBucketName } from "../lake/index.js";

export interface LakePath {
  bucket: string;
  /** "" for the bucket itself. */
  key: string;
}

/** The scheme printed in messages, as the lake's own errors and `aws s3` print it. */
export const lakeUrl = (bucket: string, key = ""): string => `s3://${bucket}/${key}`;

const schemes = ["s3://", "lake://"];

export const isLakeUrl = (text: string): boolean => schemes.some((scheme) => text.startsWith(scheme));

function splitBucket(rest: string, original: string): LakePath {
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash + 1);
  if (bucket === "") {
    throw validationError(`${JSON.stringify(original)} names no bucket: write BUCKET/KEY or s3://BUCKET/KEY`);
  }
  checkBucketName(bucket);
  return { bucket, key };
}

/** `s3://b/k`, `lake://b/k` or `b/k`. */
export function parseLakePath(text: string): LakePath {
  const scheme = schemes.find((s) => text.startsWith(s));
  return splitBucket(scheme === undefined ? text : text.slice(scheme.length), text);
}

/** A lake path that must name an object, not only a bucket. */
export function parseObjectPath(text: string): LakePath {
  const parsed = parseLakePath(text);
  if (parsed.key === "") {
    throw validationError(
      `${JSON.stringify(text)} names a bucket, not an object: write BUCKET/KEY, e.g. demo-airflow-ts-output/2021-09-22-13/my_file.csv`,
    );
  }
  return parsed;
}

/** A prefix taken as a folder: `2021-09-22` covers `2021-09-22/…`, not `2021-09-22-13/…`. */
export const folderPrefix = (key: string): string => (key === "" || key.endsWith("/") ? key : `${key}/`);

/** `2021-09-22 13:00:02`, in UTC. */
export const timestampText = (date: Date): string => date.toISOString().slice(0, 19).replace("T", " ");

const sizeUnits = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** `1 Byte`, `512 Bytes`, `18.9 KiB`, …: the largest unit that keeps the figure under 1024. */
export function humanSize(bytes: number): string {
  if (bytes === 1) return "1 Byte";
  if (bytes < 1024) return `${bytes} Bytes`;
  let value = bytes;
  for (const unit of sizeUnits) {
    value /= 1024;
    if (Number(value.toFixed(1)) < 1024 || unit === sizeUnits.at(-1)) return `${value.toFixed(1)} ${unit}`;
  }
  return `${bytes} Bytes`;
}

const contentTypes: Record<string, string> = {
  ".csv": "text/csv",
  ".tsv": "text/tab-separated-values",
  ".json": "application/json",
  ".txt": "text/plain",
  ".gz": "application/gzip",
  ".parquet": "application/vnd.apache.parquet",
};

/** The content type of an upload, from its name (the export's own types for CSV, gzip, parquet). */
export const contentTypeOf = (name: string): string | undefined =>
  contentTypes[path.extname(name).toLowerCase()];
