/**
 * The manifest written beside each exported file (`<key>.manifest.json`): what the file holds, how
 * to check it (sha256, bytes), and what produced it (query, interval, run, try, code version).
 * Readers can trust a file whose sha256 matches its manifest; a mismatch means a newer export is
 * being committed (the data file goes first, its manifest right after).
 */
import type { BucketVersion, TableRead } from "../store/index.js";
import type { ResolvedExportRequest } from "./export-request.js";

export const manifestVersion = 1;

export interface ExportManifest {
  manifestVersion: number;
  bucket: string;
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** The query's result columns, in order (CSV's unnamed index column is not one of them). */
  columns: string[];
  format: "csv" | "parquet";
  /** CSV: the whole file is gzip; parquet: its column chunks are. */
  compression: "gzip" | "none";
  header: boolean;
  indexColumn: boolean;
  query: string;
  interval: { start: string; end: string };
  dagId: string;
  taskId: string;
  runId: string;
  tryNumber: number;
  codeVersion: string | null;
  writtenAt: string;
  /**
   * The data versions the query read (docs/store.md, "Data versions"), taken just before it ran:
   * per table it names, the buckets overlapping the interval. Absent from manifests written before
   * data versions existed, and when the store keeps none.
   */
  dataVersions?: ManifestDataVersions;
}

export interface ManifestDataVersions {
  tables: Array<{
    table: string;
    /** The highest bucket version read (0: no data in the interval yet), and the records then. */
    version: number;
    records: number;
    buckets: Array<{ start: string; widthMs: number; version: number; records: number; lastWriteAt: string }>;
  }>;
}

/** The manifest's view of what an export read. */
export function manifestDataVersions(
  reads: readonly TableRead[],
  buckets: ReadonlyArray<BucketVersion>,
): ManifestDataVersions {
  return {
    tables: reads.map((read) => ({
      table: read.table,
      version: read.version,
      records: read.records,
      buckets: buckets
        .filter((b) => b.tableId === read.tableId)
        .map((b) => ({
          start: new Date(b.startMs).toISOString(),
          widthMs: b.widthMs,
          version: b.version,
          records: b.records,
          lastWriteAt: new Date(b.writtenMs).toISOString(),
        })),
    })),
  };
}

export function buildManifest(
  request: ResolvedExportRequest,
  file: { rows: number; bytes: number; sha256: string; columns: string[] },
  writtenAt: Date,
  dataVersions?: ManifestDataVersions,
): ExportManifest {
  const { provenance } = request;
  return {
    manifestVersion,
    bucket: request.bucket,
    key: request.key,
    rows: file.rows,
    bytes: file.bytes,
    sha256: file.sha256,
    columns: file.columns,
    format: request.format,
    compression: request.gzip ? "gzip" : "none",
    header: request.header,
    indexColumn: request.indexColumn,
    query: request.query,
    interval: { start: provenance.dataIntervalStart, end: provenance.dataIntervalEnd },
    dagId: provenance.dagId,
    taskId: provenance.taskId,
    runId: provenance.runId,
    tryNumber: provenance.tryNumber,
    codeVersion: provenance.codeVersion,
    writtenAt: writtenAt.toISOString(),
    ...(dataVersions === undefined ? {} : { dataVersions }),
  };
}
