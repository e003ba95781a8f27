/**
 * One stream record → the batch: a single-measure row, a multi-measure record, or a failure with
 * its reason. Single-measure JSON is tried on the fast path first (see single-rows.ts); whatever it
 * does not take goes through the general mapping (mapping.ts), which decides what it means.
 */
import type { Batch } from "./batch.js";
import { FlatRecords } from "./flat-rows.js";
import { isMapFailure, mapPayload } from "./mapping.js";
import { SeriesTable } from "./series-table.js";
import { SingleMeasureRows } from "./single-rows.js";
import type { ConnectorMapping } from "./types.js";

export class RecordMapper {
  /** Series, measures, keys and times seen, kept across batches for the fast paths. */
  private readonly series = new SeriesTable();
  private readonly singleRows = new SingleMeasureRows(this.series);
  private readonly flatRecords = new FlatRecords(this.series);

  constructor(private readonly mapping: ConnectorMapping) {}

  /** Maps the payload `buffer[start, end)`, record `index` of page `pageNumber`, into `batch`. */
  map(buffer: Buffer, start: number, end: number, batch: Batch, pageNumber: number, index: number): void {
    const mapping = this.mapping;
    if (
      mapping !== "flat" &&
      this.singleRows.addScanned(buffer, start, end, batch, pageNumber, index, mapping === "auto")
    ) {
      return;
    }
    if (mapping !== "single") {
      const record = this.flatRecords.map(buffer, start, end);
      if (record !== undefined) {
        batch.addRecord(record, pageNumber, index);
        return;
      }
    }
    const mapped = mapPayload(buffer.subarray(start, end), mapping, batch.pool);
    if (isMapFailure(mapped)) {
      batch.addFailure(pageNumber, index, mapped.failure);
    } else if (mapped.MeasureValueType === "MULTI") {
      batch.addRecord(mapped, pageNumber, index);
    } else {
      const problem = this.singleRows.addMapped(mapped, batch, pageNumber, index);
      if (problem !== undefined) batch.addFailure(pageNumber, index, problem);
    }
  }
}
