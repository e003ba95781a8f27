/**
 * Single-measure records → rows of a batch's columnar write. The fast path reads the record's bytes
 * with the scanner and finds its series, measure and time in tables kept across batches (a series
 * is recognised by its dimensions' hash and bytes, so its names and values are decoded once, not
 * once a record); the general path takes what the general mapping (JSON.parse) made. Both end in
 * the same row: the same series, measure, typed value and time, or the same reason.
 */
import type { Dimension, ScalarMeasureValueType, TimeUnit, WriteRecord } from "../../store/index.js";
import { type Batch, MeasureEntry, type SeriesEntry, VALUE_TYPES } from "./batch.js";
import type { SeriesTable } from "./series-table.js";
import { equalsBytes, Field, hashBytes, scannedSingle, scanSingleMeasure } from "./single-scanner.js";
import { columnValue, TimeParser, ValueProblem } from "./values.js";

const TIME_UNITS: readonly TimeUnit[] = ["MILLISECONDS", "SECONDS", "MICROSECONDS", "NANOSECONDS"];
const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const TYPE_BYTES = VALUE_TYPES.map(bytesOf);
const UNIT_BYTES = TIME_UNITS.map(bytesOf);
const typeCodeOf = new Map(VALUE_TYPES.map((type, code) => [type, code]));
/** Timestream's defaults when the keys are left out. */
const defaultTypeCode = 0; // DOUBLE
const defaultUnitCode = 0; // MILLISECONDS
/** The longest Time text the mapping takes (DIGITS). */
const maxTimeDigits = 19;
/** Past this the measure tables start over: payloads with ever new names must not grow them without end. */
const maxMeasures = 65_536;

/** A measure name seen by the scanner: its bytes (for hash hits) and entry. */
interface MeasureBytes {
  bytes: Uint8Array;
  entry: MeasureEntry;
  next: MeasureBytes | undefined;
}

function codeOf(buf: Uint8Array, start: number, end: number, names: readonly Uint8Array[]): number {
  for (let code = 0; code < names.length; code++) if (equalsBytes(buf, start, end, names[code]!)) return code;
  return -1;
}

export class SingleMeasureRows {
  constructor(private readonly series: SeriesTable) {}

  private readonly measuresByName = new Map<string, MeasureEntry>();
  private readonly measuresByHash = new Map<number, MeasureBytes>();
  private readonly times = new TimeParser();
  /** The series of the last record the fast path took: the next record is most likely of it too. */
  private lastSeries: SeriesEntry | undefined;
  /** The last Time the scanner converted, as bytes, with its unit and nanoseconds. */
  private readonly timeBytes = new Uint8Array(maxTimeDigits);
  private timeLength = -1;
  private timeUnitCode = -1;
  private timeNs = 0n;

  /**
   * Adds the single-measure JSON in `buf[start, end)` (record `index` of page `pageNumber`) as a row
   * of `batch`. False when the fast path does not take it (see single-scanner.ts): then map it with
   * the general mapping and `addMapped`.
   */
  addScanned(
    buf: Buffer,
    start: number,
    end: number,
    batch: Batch,
    pageNumber: number,
    index: number,
    refuseTypeKey: boolean,
  ): boolean {
    const last = this.lastSeries;
    if (!scanSingleMeasure(buf, start, end, refuseTypeKey, last?.run)) return false;
    const { fieldStart, fieldEnd } = scannedSingle;
    const nameStart = fieldStart[Field.MeasureName]!;
    const nameEnd = fieldEnd[Field.MeasureName]!;
    const valueStart = fieldStart[Field.MeasureValue]!;
    const timeStart = fieldStart[Field.Time]!;
    const timeEnd = fieldEnd[Field.Time]!;
    // Missing or empty keys: the general path gives the reason.
    if (nameStart < 0 || nameEnd === nameStart || valueStart < 0 || timeStart < 0 || timeEnd === timeStart) {
      return false;
    }
    let typeCode = defaultTypeCode;
    if (fieldStart[Field.MeasureValueType]! >= 0) {
      typeCode = codeOf(
        buf,
        fieldStart[Field.MeasureValueType]!,
        fieldEnd[Field.MeasureValueType]!,
        TYPE_BYTES,
      );
      if (typeCode < 0) return false;
    }
    let unitCode = defaultUnitCode;
    if (fieldStart[Field.TimeUnit]! >= 0) {
      unitCode = codeOf(buf, fieldStart[Field.TimeUnit]!, fieldEnd[Field.TimeUnit]!, UNIT_BYTES);
      if (unitCode < 0) return false;
    }
    const timeNs = this.scannedTime(buf, timeStart, timeEnd, unitCode);
    if (timeNs === undefined) return false;
    const value = columnValue(
      VALUE_TYPES[typeCode]!,
      buf.toString("latin1", valueStart, fieldEnd[Field.MeasureValue]!),
      TIME_UNITS[unitCode]!,
    );
    if (value instanceof ValueProblem) return false;
    const series = scannedSingle.sameDimensions ? last! : this.series.find(buf, scannedSingle);
    if (series === undefined) return false;
    this.lastSeries = series;
    const measure = this.scannedMeasure(buf, nameStart, nameEnd);
    batch.addRow(batch.seriesIndex(series), measure, typeCode, value, timeNs, pageNumber, index);
    return true;
  }

  /**
   * Adds a single-measure record the general mapping made. Returns the reason when its value or
   * time cannot be stored (out of range: the store would refuse it).
   */
  addMapped(record: WriteRecord, batch: Batch, pageNumber: number, index: number): string | undefined {
    const type = record.MeasureValueType as ScalarMeasureValueType;
    const unit = record.TimeUnit!;
    const timeNs = this.times.timeNs(record.Time!, unit);
    if (timeNs instanceof ValueProblem) return timeNs.reason;
    const value = columnValue(type, record.MeasureValue!, unit);
    if (value instanceof ValueProblem) return value.reason;
    const seriesIndex = batch.seriesIndexOfDimensions(record.Dimensions as Dimension[]);
    const measure = this.measureNamed(record.MeasureName!);
    batch.addRow(seriesIndex, measure, typeCodeOf.get(type)!, value, timeNs, pageNumber, index);
    return undefined;
  }

  /** Nanoseconds of the scanned Time, or undefined to leave the record to the general path. */
  private scannedTime(buf: Buffer, start: number, end: number, unitCode: number): bigint | undefined {
    const length = end - start;
    if (length === this.timeLength && unitCode === this.timeUnitCode) {
      let same = true;
      for (let k = 0; k < length; k++) {
        if (buf[start + k] !== this.timeBytes[k]) {
          same = false;
          break;
        }
      }
      if (same) return this.timeNs;
    }
    if (length > maxTimeDigits) return undefined;
    for (let k = start; k < end; k++) {
      const c = buf[k]!;
      if (c < 0x30 || c > 0x39) return undefined;
    }
    const ns = this.times.timeNs(buf.toString("latin1", start, end), TIME_UNITS[unitCode]!);
    if (ns instanceof ValueProblem) return undefined;
    this.timeBytes.set(buf.subarray(start, end));
    this.timeLength = length;
    this.timeUnitCode = unitCode;
    this.timeNs = ns;
    return ns;
  }

  private scannedMeasure(buf: Buffer, start: number, end: number): MeasureEntry {
    const hash = hashBytes(buf, start, end);
    const first = this.measuresByHash.get(hash);
    for (let node = first; node !== undefined; node = node.next) {
      if (equalsBytes(buf, start, end, node.bytes)) return node.entry;
    }
    const entry = this.measureNamed(buf.toString("latin1", start, end));
    this.measuresByHash.set(hash, { bytes: Uint8Array.from(buf.subarray(start, end)), entry, next: first });
    return entry;
  }

  private measureNamed(name: string): MeasureEntry {
    let entry = this.measuresByName.get(name);
    if (entry === undefined) {
      if (this.measuresByName.size >= maxMeasures) {
        this.measuresByName.clear();
        this.measuresByHash.clear();
      }
      entry = new MeasureEntry(name);
      this.measuresByName.set(name, entry);
    }
    return entry;
  }
}
