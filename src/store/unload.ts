/**
 * Runs Timestream's UNLOAD: the SELECT's result written to the lake as CSV or Parquet files, with a
 * manifest and a metadata file, as Timestream lays them out
 * (https://docs.aws.amazon.com/timestream/latest/developerguide/export-unload-concepts.html):
 *
 *   s3://bucket/folder/results/[col=value/…]<QueryId>_<uuid>.csv | .gz | .parquet
 *   s3://bucket/folder/<QueryId>_<uuid>_metadata.json
 *   s3://bucket/folder/<QueryId>_<uuid>_manifest.json
 *
 * DuckDB writes the files (COPY) into a folder of the lake's own temp area, so the rows never
 * become JS objects; each finished file is then committed with the lake's atomic putFile (a
 * rename), the metadata file next, and the manifest last: a reader who finds the manifest finds
 * every file it names, whole. A failure removes the files already committed and writes no manifest.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { type DuckDBType, DuckDBTypeId } from "@duckdb/node-api";
import { HourglassError, validationError } from "../errors.js";
import { checkBucketName, checkKey, type Lake } from "../lake/index.js";
import { UNLOAD_MAX_FILE_BYTES, type UnloadSpec } from "../sql/index.js";
import { quoteIdent, quoteString } from "./engine.js";
import { columnInfoOf } from "./results.js";
import type { ColumnInfo, QueryResponse } from "./types.js";

/** Timestream's limit: "Queries containing UNLOAD statement can export at most 100 partitions per query". */
export const UNLOAD_MAX_PARTITIONS = 100;
/** The folder name of a NULL partition value (Hive's convention, which DuckDB and Spark read back as NULL). */
const NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__";
/** What the manifest and metadata files say about their format (the values Timestream writes). */
const AUTHOR_NAME = "Amazon Timestream";
const RESULT_VERSION = "Amazon Timestream version 1.0.0";

/** A DuckDB statement's result, as far as UNLOAD reads it. */
export interface UnloadStatementResult {
  columnNames(): string[];
  columnTypes(): DuckDBType[];
  getRowsJson(): unknown[][];
}

/** What the store lends an UNLOAD: its lake, and DuckDB calls run within the query's limits. */
export interface UnloadContext {
  lake: Lake;
  queryId: string;
  /** Runs one statement on the query's connection, within its time and memory limits. */
  run(sql: string): Promise<UnloadStatementResult>;
}

interface WrittenFile {
  /** Where DuckDB wrote it. */
  localPath: string;
  /** `col=value/…` under results/, "" without partitions. */
  partitionPath: string;
  rows: number;
}

interface PublishedFile {
  key: string;
  size: number;
  rows: number;
}

const resultColumns: ColumnInfo[] = [
  { Name: "rows", Type: { ScalarType: "BIGINT" } },
  { Name: "metadataFile", Type: { ScalarType: "VARCHAR" } },
  { Name: "manifestFile", Type: { ScalarType: "VARCHAR" } },
];

/** Runs the UNLOAD of `duckdbSql` (its SELECT, translated) and answers Timestream's one-row result. */
export async function runUnload(
  context: UnloadContext,
  spec: UnloadSpec,
  duckdbSql: string,
): Promise<QueryResponse> {
  const { lake, queryId } = context;
  await checkDestination(lake, spec);
  const described = await context.run(`SELECT * FROM (${duckdbSql}) LIMIT 0`);
  const names = described.columnNames();
  const types = described.columnTypes();
  const dataCount = checkPartitionColumns(spec, names);
  const stage = await lake.tempPath(spec.bucket);
  await fs.mkdir(stage);
  const published: PublishedFile[] = [];
  try {
    const files = await writeFiles(context, spec, duckdbSql, names, types, dataCount, stage);
    for (const file of files) published.push(await publish(lake, spec, queryId, file));
    const stem = `${spec.prefix}${queryId}_${randomUUID()}`;
    const metadataKey = `${stem}_metadata.json`;
    const manifestKey = `${stem}_manifest.json`;
    const json = { contentType: "application/json" };
    await lake.putObject(spec.bucket, metadataKey, metadataJson(columnInfoOf(names, types)), json);
    published.push({ key: metadataKey, size: 0, rows: 0 });
    const resultFiles = published.slice(0, files.length);
    await lake.putObject(spec.bucket, manifestKey, manifestJson(spec, resultFiles), json);
    const rows = resultFiles.reduce((sum, f) => sum + f.rows, 0);
    return {
      QueryId: queryId,
      ColumnInfo: resultColumns,
      Rows: [
        {
          Data: [
            { ScalarValue: String(rows) },
            { ScalarValue: s3Url(spec.bucket, metadataKey) },
            { ScalarValue: s3Url(spec.bucket, manifestKey) },
          ],
        },
      ],
      QueryStatus: { ProgressPercentage: 100, CumulativeBytesScanned: 0, CumulativeBytesMetered: 0 },
    };
  } catch (error) {
    // Timestream leaves a failed UNLOAD's files behind; here nothing of it stays visible.
    for (const file of published) await lake.deleteObject(spec.bucket, file.key).catch(() => undefined);
    throw error;
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}

/** The bucket must exist, and the folder must make valid keys, before the query runs. */
async function checkDestination(lake: Lake, spec: UnloadSpec): Promise<void> {
  const where = `UNLOAD TO '${spec.url}'`;
  try {
    checkBucketName(spec.bucket);
    // The local lake keeps a key's '/' as folders: an empty or '.' segment has no folder.
    if (
      spec.prefix
        .split("/")
        .slice(0, -1)
        .some((s) => s === "" || s === ".")
    ) {
      throw validationError(`the folder '${spec.prefix}' has an empty or '.' segment`);
    }
    checkKey(`${spec.prefix}results/x`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw validationError(`${where}: ${reason}`, { bucket: spec.bucket });
  }
  if ((await lake.headBucket(spec.bucket)) === null) {
    throw validationError(
      `${where}: the bucket '${spec.bucket}' does not exist: create it first (hourglass lake mb ${spec.bucket}, or aws s3 mb s3://${spec.bucket})`,
      { bucket: spec.bucket },
    );
  }
}

/**
 * Timestream's rule: the partition columns are the SELECT's last columns, in the order
 * partitioned_by names them (they become folders, not file columns). Returns how many columns
 * the files hold.
 */
function checkPartitionColumns(spec: UnloadSpec, names: readonly string[]): number {
  // (Two columns of the same name arrive here already told apart by DuckDB: a, a_1.)
  const seen = new Set(names);
  const partitions = spec.partitionedBy;
  if (partitions.length === 0) return names.length;
  const listed = names.map((n) => `'${n}'`).join(", ");
  for (const name of partitions) {
    if (!seen.has(name)) {
      throw validationError(
        `UNLOAD: partitioned_by names '${name}', which is not a column of the SELECT (its columns are ${listed})`,
        { column: name },
      );
    }
  }
  const dataCount = names.length - partitions.length;
  if (dataCount === 0) {
    throw validationError(
      "UNLOAD: every column of the SELECT is a partition column, so the files would have no columns: select at least one column that partitioned_by does not name",
    );
  }
  if (partitions.some((name, i) => names[dataCount + i] !== name)) {
    throw validationError(
      `UNLOAD: the partitioned_by columns must be the last columns of the SELECT, in the same order: end the select list with ${partitions.join(", ")} (it ends with ${names.slice(dataCount).join(", ")})`,
    );
  }
  return dataCount;
}

/**
 * A data column as the files hold it. CSV: timestamps as Timestream prints them (nine fractional
 * digits, as the Query API's ScalarValue), arrays, rows and time series as JSON text (Timestream's
 * documented form); Parquet keeps DuckDB's types.
 */
function fileColumnSql(spec: UnloadSpec, name: string, type: DuckDBType): string {
  const column = `q.${quoteIdent(name)}`;
  let value = column;
  if (spec.format === "CSV") {
    if (isTimestamp(type)) value = `strftime(${column}, '%Y-%m-%d %H:%M:%S.%n')`;
    else if (isNested(type)) value = `CAST(to_json(${column}) AS VARCHAR)`;
  }
  return `${value} AS ${quoteIdent(name)}`;
}

/** A partition value as folder text: Timestream's text of the value, or NULL. */
function partitionValueSql(name: string, type: DuckDBType): string {
  const column = `q.${quoteIdent(name)}`;
  if (isTimestamp(type)) return `strftime(${column}, '%Y-%m-%d %H:%M:%S.%n')`;
  if (isNested(type)) return `CAST(to_json(${column}) AS VARCHAR)`;
  return `CAST(${column} AS VARCHAR)`;
}

function isTimestamp(type: DuckDBType): boolean {
  return [
    DuckDBTypeId.TIMESTAMP,
    DuckDBTypeId.TIMESTAMP_S,
    DuckDBTypeId.TIMESTAMP_MS,
    DuckDBTypeId.TIMESTAMP_NS,
    DuckDBTypeId.TIMESTAMP_TZ,
  ].includes(type.typeId);
}

function isNested(type: DuckDBType): boolean {
  return [DuckDBTypeId.LIST, DuckDBTypeId.ARRAY, DuckDBTypeId.STRUCT, DuckDBTypeId.MAP].includes(type.typeId);
}

/**
 * Whether DuckDB splits the files by size. Only below the default (78 GB, the most Timestream
 * allows): DuckDB's size-rotating writer works in parallel and does not keep the rows in the
 * SELECT's order, while one file written whole does.
 */
const splitsBySize = (spec: UnloadSpec): boolean => spec.maxFileSizeBytes < UNLOAD_MAX_FILE_BYTES;

/** Where one COPY writes: a folder of `part_<i>` files when split by size, else one file in it. */
async function copyTarget(spec: UnloadSpec, folder: string): Promise<string> {
  if (splitsBySize(spec)) return folder;
  await fs.mkdir(folder);
  return path.join(folder, "part_0");
}

/** DuckDB's COPY options for the final files. */
function copyOptions(spec: UnloadSpec, stringColumns: readonly string[]): string {
  const options = splitsBySize(spec)
    ? [`FILE_SIZE_BYTES ${spec.maxFileSizeBytes}`, "FILENAME_PATTERN 'part_{i}'"]
    : [];
  if (spec.format === "PARQUET") {
    options.unshift("FORMAT parquet", `COMPRESSION ${spec.compression === "GZIP" ? "gzip" : "uncompressed"}`);
    options.push("RETURN_STATS true");
  } else {
    options.unshift(
      "FORMAT csv",
      `COMPRESSION ${spec.compression === "GZIP" ? "gzip" : "none"}`,
      `HEADER ${spec.includeHeader}`,
      `DELIMITER ${quoteString(spec.fieldDelimiter)}`,
      `QUOTE '"'`,
      `ESCAPE ${quoteString(spec.escapedBy)}`,
    );
    // Quoted, a string's escape characters are escaped too (`a\b` is written "a\\b"), as
    // Timestream's escaped_by documents; DuckDB leaves unquoted fields as they are.
    if (stringColumns.length > 0) options.push(`FORCE_QUOTE (${stringColumns.map(quoteIdent).join(", ")})`);
    options.push("RETURN_FILES true");
  }
  return options.join(", ");
}

async function writeFiles(
  context: UnloadContext,
  spec: UnloadSpec,
  duckdbSql: string,
  names: readonly string[],
  types: readonly DuckDBType[],
  dataCount: number,
  stage: string,
): Promise<WrittenFile[]> {
  const dataColumns = names.slice(0, dataCount);
  const selectList = dataColumns.map((n, i) => fileColumnSql(spec, n, types[i]!));
  const stringColumns = dataColumns.filter(
    (_, i) => types[i]!.typeId === DuckDBTypeId.VARCHAR || isNested(types[i]!),
  );
  const options = copyOptions(spec, stringColumns);
  if (spec.partitionedBy.length === 0) {
    const out = await copyTarget(spec, path.join(stage, "out"));
    const result = await context.run(
      `COPY (SELECT ${selectList.join(", ")} FROM (${duckdbSql}) q) TO ${quoteString(out)} (${options})`,
    );
    return await filesOf(spec, result, "");
  }
  // Partitioned: DuckDB cannot split files by size while partitioning (FILE_SIZE_BYTES with
  // PARTITION_BY is "not implemented"), so the rows go to Parquet by partition first, then each
  // partition is written in the final format, split by size. Parquet that needs no split is
  // written in its final form at once: those files are the result.
  const direct = spec.format === "PARQUET" && !splitsBySize(spec);
  const stagedCompression = direct
    ? `COMPRESSION ${spec.compression === "GZIP" ? "gzip" : "uncompressed"}, `
    : "";
  const partitionColumns = names.slice(dataCount);
  const keyColumns = partitionColumns.map((_, i) => `__hg_partition_${i}`);
  const staged = await context.run(
    `COPY (SELECT ${selectList.join(", ")}, ${partitionColumns
      .map((n, i) => `${partitionValueSql(n, types[dataCount + i]!)} AS ${keyColumns[i]}`)
      .join(
        ", ",
      )} FROM (${duckdbSql}) q) TO ${quoteString(path.join(stage, "partitions"))} (FORMAT parquet, ${stagedCompression}PARTITION_BY (${keyColumns.join(", ")}), FILENAME_PATTERN 'part_{i}', RETURN_STATS true)`,
  );
  const groups = new Map<string, { values: (string | null)[]; files: string[]; rows: number[] }>();
  for (const row of staged.getRowsJson()) {
    const keys = new Map(
      ((row[5] ?? []) as { key: string; value: string | null }[]).map((k) => [k.key, k.value]),
    );
    const values = keyColumns.map((k) => keys.get(k) ?? null);
    const id = JSON.stringify(values);
    const group = groups.get(id) ?? { values, files: [], rows: [] };
    group.files.push(String(row[0]));
    group.rows.push(Number(row[1]));
    groups.set(id, group);
  }
  if (groups.size > UNLOAD_MAX_PARTITIONS) {
    throw validationError(
      `UNLOAD: partitioned_by (${spec.partitionedBy.join(", ")}) makes ${groups.size} partitions; Timestream's limit is ${UNLOAD_MAX_PARTITIONS} per UNLOAD: partition by fewer distinct values, or split the UNLOAD with WHERE`,
      { limit: "partitions", value: UNLOAD_MAX_PARTITIONS },
    );
  }
  const written: WrittenFile[] = [];
  let n = 0;
  for (const group of groups.values()) {
    const partitionPath = group.values
      .map(
        (value, i) =>
          `${partitionSegment(partitionColumns[i]!)}=${partitionFolder(partitionColumns[i]!, value)}`,
      )
      .join("/");
    if (direct) {
      group.files.forEach((localPath, i) => {
        written.push({ localPath, partitionPath: `${partitionPath}/`, rows: group.rows[i]! });
      });
      continue;
    }
    const files = `[${group.files.map(quoteString).join(", ")}]`;
    const target = await copyTarget(spec, path.join(stage, `out_${n++}`));
    const result = await context.run(
      // hive_partitioning off: the folder names must not come back as a column.
      `COPY (SELECT * FROM read_parquet(${files}, hive_partitioning = false)) TO ${quoteString(target)} (${options})`,
    );
    written.push(...(await filesOf(spec, result, `${partitionPath}/`)));
  }
  return written;
}

/** The files one COPY wrote, with their row counts; empty extra files are dropped. */
async function filesOf(
  spec: UnloadSpec,
  result: UnloadStatementResult,
  partitionPath: string,
): Promise<WrittenFile[]> {
  const rows = result.getRowsJson();
  let files: WrittenFile[];
  if (spec.format === "PARQUET") {
    // RETURN_STATS: one row per file, (filename, count, …).
    files = rows.map((row) => ({ localPath: String(row[0]), partitionPath, rows: Number(row[1]) }));
  } else {
    // RETURN_FILES: one row (count, [files]). Only a split result needs its files counted.
    const total = Number(rows[0]?.[0] ?? 0);
    const paths = ((rows[0]?.[1] ?? []) as unknown[]).map(String);
    files = [];
    for (const localPath of paths) {
      const count = paths.length === 1 ? total : await countCsvRecords(localPath, spec);
      files.push({ localPath, partitionPath, rows: count });
    }
  }
  // A result split by size may end with a file of no rows; an empty result keeps its one file.
  const kept = files.filter((f) => f.rows > 0);
  return kept.length > 0 ? kept : files.slice(0, 1);
}

/**
 * Counts the records of a CSV file DuckDB wrote with QUOTE '"' and ESCAPE `escapedBy`: a line
 * break outside quotes ends a record (a quoted value may hold line breaks); the header is not one.
 */
async function countCsvRecords(file: string, spec: UnloadSpec): Promise<number> {
  const quote = 0x22;
  const newline = 0x0a;
  const escapeByte = spec.escapedBy.charCodeAt(0);
  let inQuotes = false;
  let escaped = false;
  let records = 0;
  const source = createReadStream(file);
  const stream = spec.compression === "GZIP" ? source.pipe(createGunzip()) : source;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (escaped) escaped = false;
      else if (inQuotes) {
        if (byte === escapeByte) escaped = true;
        else if (byte === quote) inQuotes = false;
      } else if (byte === quote) inQuotes = true;
      else if (byte === newline) records++;
    }
  }
  return spec.includeHeader ? Math.max(0, records - 1) : records;
}

/**
 * A partition folder's value. Timestream allows only ASCII in partition values (S3 keys); `/`, `\`,
 * `%` and control characters are percent-encoded so that one value stays one folder.
 */
function partitionFolder(column: string, value: string | null): string {
  if (value === null) return NULL_PARTITION;
  if (/[^\x00-\x7f]/.test(value)) {
    throw validationError(
      `UNLOAD: the partition column '${column}' has the value '${value}', which is not ASCII: Timestream allows only ASCII characters in partition values (they become S3 keys); partition by another column or transform the value`,
      { column },
    );
  }
  return partitionSegment(value);
}

function partitionSegment(text: string): string {
  return text.replace(
    /[\x00-\x1f\x7f/\\%]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

async function publish(
  lake: Lake,
  spec: UnloadSpec,
  queryId: string,
  file: WrittenFile,
): Promise<PublishedFile> {
  const extension = spec.format === "PARQUET" ? ".parquet" : spec.compression === "GZIP" ? ".gz" : ".csv";
  const contentType =
    spec.format === "PARQUET"
      ? "application/vnd.apache.parquet"
      : spec.compression === "GZIP"
        ? "application/gzip"
        : "text/csv";
  const key = `${spec.prefix}results/${file.partitionPath}${queryId}_${randomUUID()}${extension}`;
  // A file straight in the lake's temp folder is committed by a rename (no copy).
  const temp = await lake.tempPath(spec.bucket);
  await fs.rename(file.localPath, temp);
  try {
    const put = await lake.putFile(spec.bucket, key, temp, { contentType });
    return { key, size: put.size, rows: file.rows };
  } catch (error) {
    await fs.rm(temp, { force: true });
    if (error instanceof HourglassError) throw error;
    throw new HourglassError("Internal", `UNLOAD could not write s3://${spec.bucket}/${key}`, {
      cause: error,
    });
  }
}

function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

function metadataJson(columns: ColumnInfo[]): string {
  return `${JSON.stringify(
    { ColumnInfo: columns, Author: { Name: AUTHOR_NAME, MetadataFileVersion: "1.0" } },
    null,
    2,
  )}\n`;
}

function manifestJson(spec: UnloadSpec, files: readonly PublishedFile[]): string {
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const rows = files.reduce((sum, f) => sum + f.rows, 0);
  const manifest = {
    result_files: files.map((f) => ({
      url: s3Url(spec.bucket, f.key),
      file_metadata: { content_length_in_bytes: f.size, row_count: f.rows },
    })),
    query_metadata: {
      // Timestream's SDK samples read total_content_length_in_bytes; its documentation's example
      // shows content_length_in_bytes. Both are written, with the same value.
      total_content_length_in_bytes: bytes,
      content_length_in_bytes: bytes,
      total_row_count: rows,
      result_format: spec.format,
      result_version: RESULT_VERSION,
    },
    author: { name: AUTHOR_NAME, manifest_file_version: "1.0" },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
