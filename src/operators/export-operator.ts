/**
 * The export operator: `exportQuery({ query, bucket, key, … })` describes the seed's task (run a
 * query for the interval, write the result to `bucket/<folder>/my_file.csv`); `runExport` renders
 * the query and key with the task's context and asks the export service, where the store lives,
 * to do the work. The log says where the file goes and which query ran, as the seed's task did.
 */
import { z } from "zod";
import { isoUtc, renderTemplate, type TaskContext } from "../workflows/index.js";
import { throwIfAborted } from "./abort.js";
import type { EmptyResultPolicy, ExportToLakeResult, OperatorRunOptions, TaskServices } from "./contract.js";
import { emptyResultPolicies, exportFormats } from "./export-request.js";
import { parseWith } from "./parse-with.js";

export interface ExportQueryOptions {
  /** Timestream SQL; a template (`{{ sql.start }}`, `{{ time_filter }}`, `{{ params.x }}`, …). */
  query: string;
  bucket: string;
  /** A template too, e.g. `{{ folder }}/my_file.csv`. */
  key: string;
  /** Default csv. */
  format?: "csv" | "parquet";
  /** Default false. */
  gzip?: boolean;
  /** CSV only: a header line, default true. */
  header?: boolean;
  /** CSV only: pandas' leading unnamed 0-based index column, default false. */
  indexColumn?: boolean;
  /** Default "skip": write nothing and say so in the log. */
  emptyResult?: EmptyResultPolicy;
}

export interface ExportDescriptor {
  kind: "export";
  query: string;
  bucket: string;
  key: string;
  format: "csv" | "parquet";
  gzip: boolean;
  /** Absent for parquet. */
  header?: boolean;
  indexColumn?: boolean;
  emptyResult: EmptyResultPolicy;
  [field: string]: unknown;
}

const template = (what: string) => z.string().refine((text) => text.trim() !== "", `the ${what} is empty`);

const optionsSchema = z
  .strictObject({
    query: template("query"),
    bucket: z.string().min(1),
    key: template("key"),
    format: z.enum(exportFormats).default("csv"),
    gzip: z.boolean().default(false),
    header: z.boolean().optional(),
    indexColumn: z.boolean().optional(),
    emptyResult: z.enum(emptyResultPolicies).default("skip"),
  })
  .refine((o) => o.format === "csv" || (o.header === undefined && o.indexColumn === undefined), {
    message: "header and indexColumn apply to CSV exports only, not to parquet",
  });

const descriptorSchema = z.strictObject({
  kind: z.literal("export"),
  query: template("query"),
  bucket: z.string().min(1),
  key: template("key"),
  format: z.enum(exportFormats),
  gzip: z.boolean(),
  header: z.boolean().optional(),
  indexColumn: z.boolean().optional(),
  emptyResult: z.enum(emptyResultPolicies),
});

/** Describes an export task; throws a ValidationError (at DAG load time) for a bad option. */
export function exportQuery(options: ExportQueryOptions): ExportDescriptor {
  const o = parseWith(optionsSchema, options, "export operator");
  const csv = o.format === "csv" ? { header: o.header ?? true, indexColumn: o.indexColumn ?? false } : {};
  return Object.freeze({
    kind: "export",
    query: o.query,
    bucket: o.bucket,
    key: o.key,
    format: o.format,
    gzip: o.gzip,
    ...csv,
    emptyResult: o.emptyResult,
  });
}

export async function runExport(
  descriptor: unknown,
  ctx: TaskContext,
  services: TaskServices,
  options: OperatorRunOptions = {},
): Promise<ExportToLakeResult> {
  const d = parseWith(descriptorSchema, descriptor, "export operator");
  const query = renderTemplate(d.query, ctx);
  const key = renderTemplate(d.key, ctx);
  const target = `${d.bucket}/${key}`;
  ctx.log(`Data will be uploaded to ${target}`);
  ctx.log(`Query to be run: ${query}`);
  throwIfAborted(ctx.signal, "the export");
  const result = await services.exportToLake({
    query,
    bucket: d.bucket,
    key,
    format: d.format,
    gzip: d.gzip,
    ...(d.format === "csv" ? { header: d.header ?? true, indexColumn: d.indexColumn ?? false } : {}),
    emptyResult: d.emptyResult,
    provenance: {
      dagId: ctx.dagId,
      taskId: ctx.taskId,
      runId: ctx.runId,
      tryNumber: ctx.tryNumber,
      dataIntervalStart: isoUtc(ctx.dataIntervalStart),
      dataIntervalEnd: isoUtc(ctx.dataIntervalEnd),
      codeVersion: options.codeVersion ?? null,
    },
  });
  if (result.written) {
    ctx.log(
      `Query processed successfully and copied to ${target}: ${result.rows} rows, ${result.bytes} bytes, sha256 ${result.sha256}; manifest ${result.manifestKey}`,
    );
  } else {
    ctx.log(`Query returned nothing - no data uploaded: ${result.note ?? "the result was empty"}`);
  }
  return result;
}
