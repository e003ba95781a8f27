/**
 * The shape of an export request, checked wherever one arrives (the REST route, the service), and
 * the defaults both apply: CSV gets a header and no index column unless told otherwise.
 */
import { z } from "zod";
import { validationError } from "../errors.js";
import { checkBucketName, checkKey } from "../lake/index.js";
import type { ExportToLakeRequest } from "./contract.js";
import { parseWith } from "./parse-with.js";

export const exportFormats = ["csv", "parquet"] as const;
export const emptyResultPolicies = ["skip", "header-only", "fail"] as const;

/** Beside every data file: `<key>.manifest.json`. */
export const manifestSuffix = ".manifest.json";

export const manifestKeyOf = (key: string): string => `${key}${manifestSuffix}`;

const provenanceSchema = z.strictObject({
  dagId: z.string().min(1),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  tryNumber: z.number().int().min(1),
  dataIntervalStart: z.string().min(1),
  dataIntervalEnd: z.string().min(1),
  codeVersion: z.string().nullable(),
});

export const exportRequestSchema = z.strictObject({
  query: z.string().trim().min(1, "the query is empty"),
  bucket: z.string().min(1),
  key: z.string().min(1),
  format: z.enum(exportFormats),
  gzip: z.boolean().optional(),
  header: z.boolean().optional(),
  indexColumn: z.boolean().optional(),
  emptyResult: z.enum(emptyResultPolicies),
  provenance: provenanceSchema,
});

/** A request with every option decided. */
export interface ResolvedExportRequest extends ExportToLakeRequest {
  gzip: boolean;
  header: boolean;
  indexColumn: boolean;
  manifestKey: string;
}

/** Checks a request (from any caller); throws a ValidationError naming the problem. */
export function parseExportRequest(value: unknown): ExportToLakeRequest {
  return resolveExportRequest(value).request;
}

/** Checks a request and fills in the defaults. */
export function resolveExportRequest(value: unknown): {
  request: ExportToLakeRequest;
  resolved: ResolvedExportRequest;
} {
  const request = parseWith(exportRequestSchema, value, "export request");
  checkBucketName(request.bucket);
  checkKey(request.key);
  if (request.key.endsWith("/")) {
    throw validationError(
      `invalid object key ${JSON.stringify(request.key)}: it names a folder, not a file`,
      {
        key: request.key,
      },
    );
  }
  const manifestKey = manifestKeyOf(request.key);
  checkKey(manifestKey);
  const csv = request.format === "csv";
  if (!csv && (request.header !== undefined || request.indexColumn !== undefined)) {
    throw validationError("header and indexColumn apply to CSV exports only, not to parquet", {
      format: request.format,
    });
  }
  const resolved: ResolvedExportRequest = {
    ...request,
    gzip: request.gzip ?? false,
    header: csv ? (request.header ?? true) : false,
    indexColumn: csv ? (request.indexColumn ?? false) : false,
    manifestKey,
  };
  return { request, resolved };
}
