import type {
  ColumnarWriteRequest,
  Dimension,
  ScalarMeasureValueType,
  WriteRecord,
} from "../../store/index.js";
import type { RecordPage } from "../record-page.js";
import { formatSequenceNumber } from "../sequence-number.js";
import type { StreamRecord } from "../types.js";
import { DimensionPool } from "./dimension-pool.js";
import type { ColumnValue } from "./values.js";

/** A stream record and its shard, as the dead-letter stream needs them. */
export interface BatchEntry {
  shardId: string;
  record: StreamRecord;
}

export const VALUE_TYPES: readonly ScalarMeasureValueType[] = [
  "DOUBLE",
  "BIGINT",
  "VARCHAR",
  "BOOLEAN",
  "TIMESTAMP",
];

/** A measure name; each batch lists it once per value type it has there. */
export class MeasureEntry {
  /** Per value type (VALUE_TYPES order): the batch that listed it last, and where. */
  readonly batchStamp = new Int32Array(VALUE_TYPES.length).fill(-1);
  readonly batchIndex = new Int32Array(VALUE_TYPES.length);

  constructor(readonly name: string) {}
}

/** A series (a dimension set); each batch lists it once. */
export class SeriesEntry {
  batchStamp = -1;
  batchIndex = 0;

  constructor(
    readonly dimensions: Dimension[],
    /** Names and values (each followed by a 0 and a 1 byte), to tell series of one hash apart. */
    readonly key: Uint8Array,
    /** The dimensions' JSON text as a record had it (see scanSingleMeasure's `expectedRun`). */
    public run: Buffer | undefined,
    public next: SeriesEntry | undefined,
  ) {}
}

let nextStamp = 0;

const grow = (column: Int32Array): Int32Array<ArrayBuffer> => {
  const grown = new Int32Array(column.length * 2);
  grown.set(column);
  return grown;
};

/**
 * Records on their way to one store write, as columns. Single-measure records become rows of the
 * store's columnar write (`writeColumns`): a series index, a measure index, a typed value and a time,
 * with each series and measure listed once. Multi-measure records (the flat mapping) stay
 * WriteRecords. Each row and record keeps where it came from (its page and index there), so a
 * rejection's index maps back to its stream record for the dead-letter stream.
 */
export class Batch {
  /** Tells this batch's listings in the shared series and measure entries from older batches'. */
  readonly stamp = nextStamp++;
  /** Stream records in the batch: rows, records and failures. */
  size = 0;

  rows = 0;
  private seriesColumn = new Int32Array(1024);
  private measureColumn = new Int32Array(1024);
  private rowPageColumn = new Int32Array(1024);
  private rowIndexColumn = new Int32Array(1024);
  readonly values: ColumnValue[] = [];
  readonly timeNs: bigint[] = [];
  readonly series: Dimension[][] = [];
  readonly measures: { name: string; type: ScalarMeasureValueType }[] = [];
  /** Dimension arrays of the general mapping (shared per series by `pool`) → series index. */
  private readonly seriesOfDimensions = new Map<Dimension[], number>();

  readonly records: WriteRecord[] = [];
  private readonly recordPages: number[] = [];
  private readonly recordIndexes: number[] = [];

  /** Records that could not be mapped: where they are and why. */
  readonly failures: { pageNumber: number; index: number; reason: string }[] = [];
  readonly pool = new DimensionPool();

  private readonly pages: RecordPage[] = [];
  /** Shard index → last offset of that shard in this batch: the checkpoint after it. */
  private readonly lastOffsets = new Map<number, { shardId: string; offset: number }>();
  /** performance.now() when the first record came in: the batch is due maxDelayMs after. */
  firstReceivedMs = 0;
  oldestArrivalMs = Number.POSITIVE_INFINITY;
  newestArrivalMs = Number.NEGATIVE_INFINITY;

  /** The number under which this batch refers to `page` (its rows keep it alive until written). */
  usePage(page: RecordPage): number {
    const last = this.pages.length - 1;
    if (last >= 0 && this.pages[last] === page) return last;
    this.pages.push(page);
    return last + 1;
  }

  /** Notes that records [first, last] of `page` are in the batch (arrival times rise in a shard). */
  noteSlice(page: RecordPage, first: number, last: number, receivedMs: number): void {
    if (this.oldestArrivalMs === Number.POSITIVE_INFINITY) this.firstReceivedMs = receivedMs;
    this.oldestArrivalMs = Math.min(this.oldestArrivalMs, page.arrivalMs(first));
    this.newestArrivalMs = Math.max(this.newestArrivalMs, page.arrivalMs(last));
    this.lastOffsets.set(page.shardIndex, { shardId: page.shardId, offset: page.offset(last) });
  }

  addRow(
    seriesIndex: number,
    measure: MeasureEntry,
    typeCode: number,
    value: ColumnValue,
    timeNs: bigint,
    pageNumber: number,
    index: number,
  ): void {
    const row = this.rows++;
    if (row === this.seriesColumn.length) {
      this.seriesColumn = grow(this.seriesColumn);
      this.measureColumn = grow(this.measureColumn);
      this.rowPageColumn = grow(this.rowPageColumn);
      this.rowIndexColumn = grow(this.rowIndexColumn);
    }
    this.seriesColumn[row] = seriesIndex;
    this.measureColumn[row] = this.measureIndex(measure, typeCode);
    this.rowPageColumn[row] = pageNumber;
    this.rowIndexColumn[row] = index;
    this.values.push(value);
    this.timeNs.push(timeNs);
    this.size++;
  }

  /** The batch's index of a series entry, listing it on first use. */
  seriesIndex(entry: SeriesEntry): number {
    if (entry.batchStamp !== this.stamp) {
      entry.batchStamp = this.stamp;
      entry.batchIndex = this.series.push(entry.dimensions) - 1;
    }
    return entry.batchIndex;
  }

  /** The batch's index of a Dimensions array from `pool`, listing it on first use. */
  seriesIndexOfDimensions(dimensions: Dimension[]): number {
    let index = this.seriesOfDimensions.get(dimensions);
    if (index === undefined) {
      index = this.series.push(dimensions) - 1;
      this.seriesOfDimensions.set(dimensions, index);
    }
    return index;
  }

  private measureIndex(measure: MeasureEntry, typeCode: number): number {
    if (measure.batchStamp[typeCode] !== this.stamp) {
      measure.batchStamp[typeCode] = this.stamp;
      measure.batchIndex[typeCode] =
        this.measures.push({ name: measure.name, type: VALUE_TYPES[typeCode]! }) - 1;
    }
    return measure.batchIndex[typeCode]!;
  }

  addRecord(record: WriteRecord, pageNumber: number, index: number): void {
    this.records.push(record);
    this.recordPages.push(pageNumber);
    this.recordIndexes.push(index);
    this.size++;
  }

  addFailure(pageNumber: number, index: number, reason: string): void {
    this.failures.push({ pageNumber, index, reason });
    this.size++;
  }

  /** The stream record behind `failures[i]`. */
  failureSource(i: number): BatchEntry {
    const { pageNumber, index } = this.failures[i]!;
    return this.entry(pageNumber, index);
  }

  /** The rows as the store's columnar write takes them. */
  columns(database: string, table: string): ColumnarWriteRequest {
    return {
      DatabaseName: database,
      TableName: table,
      series: this.series,
      measures: this.measures,
      seriesIndex: this.seriesColumn.subarray(0, this.rows),
      measureIndex: this.measureColumn.subarray(0, this.rows),
      values: this.values,
      timeNs: this.timeNs,
    };
  }

  /** The stream record behind row `row`. */
  rowSource(row: number): BatchEntry {
    return this.entry(this.rowPageColumn[row]!, this.rowIndexColumn[row]!);
  }

  /** The stream record behind `records[index]`. */
  recordSource(index: number): BatchEntry {
    return this.entry(this.recordPages[index]!, this.recordIndexes[index]!);
  }

  /** Each shard's last sequence number in the batch: the checkpoint once the batch is stored. */
  lastSequenceNumbers(): { shardId: string; sequenceNumber: string }[] {
    return [...this.lastOffsets].map(([shardIndex, { shardId, offset }]) => ({
      shardId,
      sequenceNumber: formatSequenceNumber(shardIndex, offset),
    }));
  }

  private entry(pageNumber: number, index: number): BatchEntry {
    const page = this.pages[pageNumber]!;
    return { shardId: page.shardId, record: page.record(index) };
  }
}
