/**
 * A validated batch in columns: what the writer takes from both front ends (WriteRecords-shaped
 * records, and the columnar native path). Each distinct series and measure appears once, and rows
 * point at them by index, so the writer resolves a series or a measure once a batch instead of once
 * a row, and fills DuckDB's vectors from plain arrays.
 */
import type { Attribute, NormalizedRecord, ScalarValue } from "./records.js";
import type { Dimension, MeasureValueType } from "./types.js";

export interface BatchSeries {
  /** Canonical identity: dimension names and values sorted by name. */
  key: string;
  dimensions: Dimension[];
}

export interface BatchMeasure {
  name: string;
  type: MeasureValueType;
}

export interface RowBatch {
  rows: number;
  /** Each row's index in the request, for rejections. */
  recordIndex: Int32Array;
  series: BatchSeries[];
  seriesOf: Int32Array;
  /** Distinct (name, type) pairs. */
  measures: BatchMeasure[];
  measureOf: Int32Array;
  /** Epoch nanoseconds. A plain array: rows of one time share one bigint, read without allocating. */
  timeNs: bigint[];
  version: bigint[];
  /** Single-measure values (BIGINT and TIMESTAMP as bigint); null on MULTI rows. */
  values: (ScalarValue | null)[];
  /** MULTI rows' attributes, or null when the batch has no MULTI row. */
  attributes: (Attribute[] | null)[] | null;
}

/** A batch with room for `capacity` rows, none filled yet (`rows` 0). */
export function emptyBatch(capacity: number): RowBatch {
  return {
    rows: 0,
    recordIndex: new Int32Array(capacity),
    series: [],
    seriesOf: new Int32Array(capacity),
    measures: [],
    measureOf: new Int32Array(capacity),
    timeNs: new Array<bigint>(capacity),
    version: new Array<bigint>(capacity),
    values: new Array<ScalarValue | null>(capacity),
    attributes: null,
  };
}

/** Turns records (already validated one by one) into a batch. */
export function batchFromRecords(records: readonly NormalizedRecord[]): RowBatch {
  const rows = records.length;
  const batch = emptyBatch(rows);
  batch.rows = rows;
  const seriesByKey = new Map<string, number>();
  const measureByKey = new Map<string, number>();
  let lastDimensions: Dimension[] | null = null;
  let lastSeries = -1;
  for (let i = 0; i < rows; i++) {
    const record = records[i]!;
    batch.recordIndex[i] = record.index;
    // Producers share one Dimensions array among the measures of a series: reuse the last answer.
    if (record.dimensions !== lastDimensions) {
      lastDimensions = record.dimensions;
      let s = seriesByKey.get(record.seriesKey);
      if (s === undefined) {
        s = batch.series.length;
        batch.series.push({ key: record.seriesKey, dimensions: record.dimensions });
        seriesByKey.set(record.seriesKey, s);
      }
      lastSeries = s;
    }
    batch.seriesOf[i] = lastSeries;
    const measureKey = `${record.measureName}\u0000${record.type}`;
    let m = measureByKey.get(measureKey);
    if (m === undefined) {
      m = batch.measures.length;
      batch.measures.push({ name: record.measureName, type: record.type });
      measureByKey.set(measureKey, m);
    }
    batch.measureOf[i] = m;
    batch.timeNs[i] = record.timeNs;
    batch.version[i] = record.version;
    batch.values[i] = record.value;
    if (record.attributes) {
      batch.attributes ??= new Array<Attribute[] | null>(rows).fill(null);
      batch.attributes[i] = record.attributes;
    }
  }
  return batch;
}
