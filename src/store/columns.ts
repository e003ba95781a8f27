/**
 * The store's columnar native batch path: rows given as columns of indexes into a list of series
 * (dimension sets) and a list of measures, with typed values. Producers that already hold their data
 * as columns (the load generator) skip turning every value into a string and back, and every
 * dimension set and measure name is checked once instead of once per row. The rules are
 * WriteRecords' rules: a bad row is rejected with its index and reason, the rest are written.
 */
import { validationError } from "../errors.js";
import { emptyBatch, type RowBatch } from "./batch.js";
import {
  checkedSeriesKey,
  type DimensionCache,
  MAX_VARCHAR_VALUE_BYTES,
  nameProblem,
  printable,
  RecordRule,
  type ScalarValue,
} from "./records.js";
import type { Dimension, RejectedRecord, ScalarMeasureValueType } from "./types.js";

export interface ColumnarWriteRequest {
  DatabaseName: string;
  TableName: string;
  /** Distinct dimension sets; rows point at them by index. */
  series: Dimension[][];
  /** Single-measure measures; rows point at them by index. */
  measures: { name: string; type: ScalarMeasureValueType }[];
  seriesIndex: ArrayLike<number>;
  measureIndex: ArrayLike<number>;
  /** Row values: numbers for DOUBLE, bigint (or safe integers) for BIGINT, strings, booleans, bigint epoch ns for TIMESTAMP. */
  values: ArrayLike<number | bigint | string | boolean | null>;
  /** Epoch nanoseconds: one time for every row, or one a row. */
  timeNs: bigint | ArrayLike<bigint>;
  /** Version of every row (default 1). */
  version?: number;
}

const TYPES = new Set<ScalarMeasureValueType>(["DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP"]);

function checkValue(type: ScalarMeasureValueType, value: unknown): number | bigint | string | boolean {
  switch (type) {
    case "DOUBLE":
      if (typeof value !== "number" || !Number.isFinite(value))
        throw new RecordRule(`value ${String(value)} is not a valid DOUBLE`);
      return value;
    case "BIGINT":
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
      throw new RecordRule(`value ${String(value)} is not a valid BIGINT`);
    case "VARCHAR":
      if (typeof value !== "string") throw new RecordRule(`value ${String(value)} is not a string`);
      if (value.length * 3 > MAX_VARCHAR_VALUE_BYTES && Buffer.byteLength(value) > MAX_VARCHAR_VALUE_BYTES) {
        throw new RecordRule(`value is longer than ${MAX_VARCHAR_VALUE_BYTES} bytes`);
      }
      return value;
    case "BOOLEAN":
      if (typeof value !== "boolean") throw new RecordRule(`value ${String(value)} is not a BOOLEAN`);
      return value;
    case "TIMESTAMP":
      if (typeof value !== "bigint" || value < 0n)
        throw new RecordRule(`value ${String(value)} is not epoch nanoseconds`);
      return value;
  }
}

/** Checks a columnar batch and turns it into the writer's batch; bad rows become rejections. */
export function normalizeColumns(request: ColumnarWriteRequest): {
  batch: RowBatch;
  rejected: RejectedRecord[];
} {
  const rows = request.seriesIndex.length;
  if (request.measureIndex.length !== rows || request.values.length !== rows) {
    throw validationError("seriesIndex, measureIndex and values must have one entry a row each");
  }
  if (typeof request.timeNs !== "bigint" && request.timeNs.length !== rows) {
    throw validationError("timeNs must be one bigint, or one a row");
  }
  const version = BigInt(request.version ?? 1);
  if (version < 1n) throw validationError("version must be a positive integer");

  // Each series and measure is checked once; a bad one rejects its rows.
  const cache: DimensionCache = new Map();
  const seriesKeys: (string | RecordRule)[] = request.series.map((dims) => {
    try {
      if (!Array.isArray(dims)) throw new RecordRule("a series must be a list of dimensions");
      return checkedSeriesKey(dims, cache);
    } catch (error) {
      if (error instanceof RecordRule) return error;
      throw error;
    }
  });
  const measureProblems: (string | null)[] = request.measures.map((m) => {
    const problem = nameProblem("measure", m?.name);
    if (problem) return problem;
    if (!TYPES.has(m.type))
      return `MeasureValueType ${printable(String(m.type))} is not one of ${[...TYPES].join(", ")}`;
    return null;
  });

  // The batch keeps only good series and measures, renumbered; rows of bad ones are rejected.
  const batchSeries = new Int32Array(request.series.length).fill(-1);
  const batchMeasures = new Int32Array(request.measures.length).fill(-1);
  const batch = emptyBatch(rows);
  const rejected: RejectedRecord[] = [];
  const singleTime = typeof request.timeNs === "bigint" ? request.timeNs : null;
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const s = request.seriesIndex[i]!;
    const m = request.measureIndex[i]!;
    const key = seriesKeys[s];
    const measure = request.measures[m];
    if (key === undefined || measure === undefined) {
      rejected.push({
        RecordIndex: i,
        Reason: `row ${i} points at a series or measure that is not in the batch`,
      });
      continue;
    }
    if (key instanceof RecordRule) {
      rejected.push({ RecordIndex: i, Reason: key.message });
      continue;
    }
    if (measureProblems[m] !== null) {
      rejected.push({ RecordIndex: i, Reason: measureProblems[m]! });
      continue;
    }
    let value: ScalarValue;
    try {
      value = checkValue(measure.type, request.values[i]);
    } catch (error) {
      if (!(error instanceof RecordRule)) throw error;
      rejected.push({ RecordIndex: i, Reason: `MeasureValue ${error.message}` });
      continue;
    }
    if (batchSeries[s] === -1) {
      batchSeries[s] = batch.series.length;
      batch.series.push({ key, dimensions: request.series[s]! });
    }
    if (batchMeasures[m] === -1) {
      batchMeasures[m] = batch.measures.length;
      batch.measures.push({ name: measure.name, type: measure.type });
    }
    batch.recordIndex[n] = i;
    batch.seriesOf[n] = batchSeries[s]!;
    batch.measureOf[n] = batchMeasures[m]!;
    batch.timeNs[n] = singleTime ?? (request.timeNs as ArrayLike<bigint>)[i]!;
    batch.version[n] = version;
    batch.values[n] = value;
    n++;
  }
  batch.rows = n;
  batch.timeNs.length = n;
  batch.version.length = n;
  batch.values.length = n;
  return { batch, rejected };
}
