/**
 * The export service runs where the store lives (the server): it has DuckDB write a query's
 * result straight into a temp file on the lake's filesystem (header included, no second pass),
 * applies the empty result policy, then commits the file and its manifest to the lake. The lake
 * hashes the file as it commits it (MD5 for its etag and SHA-256 for the manifest, one read), so
 * the file is read once after DuckDB wrote it. Each commit is an atomic rename, so the lake shows
 * the previous file or the new one, never a part of one; a re-run replaces both.
 */
import { promises as fs } from "node:fs";
import { HourglassError, validationError } from "../errors.js";
import type { Lake } from "../lake/index.js";
import { missingColumnOf } from "../sql/index.js";
import type { BucketVersion, ExportInput, ExportRecord, ExportResult, TableRead } from "../store/index.js";
import type { ExportToLakeRequest, ExportToLakeResult } from "./contract.js";
import { type ResolvedExportRequest, resolveExportRequest } from "./export-request.js";
import { KeyedQueue } from "./keyed-queue.js";
import { buildManifest, manifestDataVersions } from "./manifest.js";

/** The store calls the service needs (TimestreamStore has them). */
export interface ExportingStore {
  exportQuery(input: ExportInput): Promise<ExportResult>;
  /** Data versions (optional: a store without them gives manifests without versions). */
  dataVersionsRead?(
    sql: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ reads: TableRead[]; buckets: BucketVersion[] }>;
  recordExport?(record: ExportRecord): Promise<void>;
}

export interface ExportServiceOptions {
  store: ExportingStore;
  lake: Lake;
  /** For the manifest's writtenAt; injectable for tests. */
  clockMs?: () => number;
}

export interface ExportService {
  exportToLake(request: ExportToLakeRequest): Promise<ExportToLakeResult>;
}

const jsonContentType = "application/json";

function contentTypeOf(request: ResolvedExportRequest): string {
  if (request.format === "parquet") return "application/vnd.apache.parquet";
  return request.gzip ? "application/gzip" : "text/csv";
}

const describeTarget = (request: ResolvedExportRequest): string =>
  `s3://${request.bucket}/${request.key} (interval [${request.provenance.dataIntervalStart}, ${request.provenance.dataIntervalEnd}))`;

export function createExportService(options: ExportServiceOptions): ExportService {
  const { store, lake } = options;
  const clockMs = options.clockMs ?? Date.now;
  const commits = new KeyedQueue();

  async function exportToLake(raw: ExportToLakeRequest): Promise<ExportToLakeResult> {
    const request = resolveExportRequest(raw).resolved;
    // NotFound naming the bucket, before any query work: buckets are created up front.
    const temp = await lake.tempPath(request.bucket);
    let committed = false;
    const intervalMs = {
      start: Date.parse(request.provenance.dataIntervalStart),
      end: Date.parse(request.provenance.dataIntervalEnd),
    };
    let versions: { reads: TableRead[]; buckets: BucketVersion[] } | null = null;
    // Into the ledger, once the outcome is committed: what freshness (exports status) judges by.
    const record = async (written: boolean, rows: number) => {
      if (store.recordExport === undefined || versions === null) return;
      const { provenance } = request;
      await store.recordExport({
        dagId: provenance.dagId,
        taskId: provenance.taskId,
        intervalStartMs: intervalMs.start,
        intervalEndMs: intervalMs.end,
        runId: provenance.runId,
        tryNumber: provenance.tryNumber,
        codeVersion: provenance.codeVersion,
        bucket: request.bucket,
        key: request.key,
        written,
        rows,
        writtenMs: clockMs(),
        reads: versions.reads,
      });
    };
    try {
      let result: ExportResult;
      try {
        // The versions first, then the data: a write landing in between makes this export look
        // stale (it may hold that write), never fresh over data it does not hold.
        if (
          store.dataVersionsRead !== undefined &&
          Number.isFinite(intervalMs.start) &&
          Number.isFinite(intervalMs.end)
        ) {
          versions = await store.dataVersionsRead(request.query, intervalMs.start, intervalMs.end);
        }
        result = await store.exportQuery({
          query: request.query,
          path: temp,
          format: request.format,
          header: request.header,
          indexColumn: request.indexColumn,
          gzip: request.gzip,
        });
      } catch (error) {
        const missing = missingColumnOf(error);
        if (missing === null) throw error;
        return await noSuchColumnYet(request, missing, (error as Error).message);
      }
      if (result.rows === 0 && request.emptyResult !== "header-only") {
        if (request.emptyResult === "fail") {
          throw validationError(`the query returned no rows for ${describeTarget(request)}`, {
            bucket: request.bucket,
            key: request.key,
          });
        }
        const outcome = await skipped(request);
        await record(false, 0);
        return outcome;
      }
      const outcome = await commits.run(`${request.bucket}/${request.key}`, async () => {
        const file = await lake.putFile(request.bucket, request.key, temp, {
          contentType: contentTypeOf(request),
        });
        committed = true;
        const manifest = buildManifest(
          request,
          { rows: result.rows, bytes: file.size, sha256: file.sha256, columns: result.columns },
          new Date(clockMs()),
          versions === null ? undefined : manifestDataVersions(versions.reads, versions.buckets),
        );
        await lake.putObject(request.bucket, request.manifestKey, `${JSON.stringify(manifest, null, 2)}\n`, {
          contentType: jsonContentType,
        });
        return {
          written: true,
          bucket: request.bucket,
          key: request.key,
          rows: result.rows,
          bytes: file.size,
          sha256: file.sha256,
          manifestKey: request.manifestKey,
        } satisfies ExportToLakeResult;
      });
      await record(true, result.rows);
      return outcome;
    } catch (error) {
      throw asExportError(error, request);
    } finally {
      if (!committed) await fs.rm(temp, { force: true });
    }
  }

  /**
   * A table has a column only once data for it was written (a measure's `measure_value::double`,
   * a dimension): an hourly export that starts before the first such record would otherwise fail
   * every run until then. Under "skip" that is an empty result, and the note says why; "fail"
   * keeps the error; "header-only" cannot name the columns of a query that does not compile, so it
   * fails too, saying so. A plain query keeps Timestream's error: only exports read it this way.
   */
  async function noSuchColumnYet(
    request: ResolvedExportRequest,
    column: string,
    message: string,
  ): Promise<ExportToLakeResult> {
    const why = `column '${column}' does not exist in the table yet (no record with it was written)`;
    if (request.emptyResult === "skip")
      return skipped(
        request,
        `the query for ${describeTarget(request)} failed because ${why}, so it counts as an empty result`,
      );
    const hint =
      request.emptyResult === "header-only"
        ? `emptyResult "header-only" needs the query's columns to write a header; use "skip" to treat this as an empty result`
        : `emptyResult "fail" keeps this error; "skip" treats it as an empty result`;
    throw validationError(`${message} for ${describeTarget(request)}: ${hint}`, {
      bucket: request.bucket,
      key: request.key,
      missingColumn: column,
    });
  }

  async function skipped(
    request: ResolvedExportRequest,
    reason = `the query returned no rows for ${describeTarget(request)}`,
  ): Promise<ExportToLakeResult> {
    const earlier = await lake.headObject(request.bucket, request.key);
    const note =
      `${reason}: nothing written (emptyResult "skip")` +
      (earlier === null ? "" : "; the file an earlier run wrote there is left as it was");
    return {
      written: false,
      bucket: request.bucket,
      key: request.key,
      rows: 0,
      bytes: 0,
      sha256: null,
      manifestKey: null,
      note,
    };
  }

  return { exportToLake };
}

/** Failures keep their code; an unexpected one says which export it broke. */
function asExportError(error: unknown, request: ResolvedExportRequest): HourglassError {
  if (error instanceof HourglassError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HourglassError("Internal", `export to ${describeTarget(request)} failed: ${message}`, {
    cause: error,
  });
}
