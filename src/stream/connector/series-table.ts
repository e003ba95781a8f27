/**
 * Series (dimension sets) recognised from a record's bytes: by the hash of its dimensions' values,
 * then by comparing names and values, so that a series' names and values are decoded once, not
 * once a record. Kept across batches (each batch lists a series once, see Batch.seriesIndex); past
 * `maxSeries` it starts over, so payloads with ever new series do not grow it without end.
 */
import type { Dimension } from "../../store/index.js";
import { SeriesEntry } from "./batch.js";
import { equalsBytes } from "./single-scanner.js";

/** Where a scanner found a record's dimensions (positions in the scanned buffer). */
export interface DimensionTokens {
  dimensions: number;
  keyStart: Int32Array;
  keyEnd: Int32Array;
  valueStart: Int32Array;
  valueEnd: Int32Array;
  /** FNV-1a of the values in order (see the scanners). */
  hash: number;
  /** The dimensions as one run of text `[runStart, runEnd)`, -1 when fields come between them. */
  runStart: number;
  runEnd: number;
}

const defaultMaxSeries = 250_000;

export class SeriesTable {
  private readonly byHash = new Map<number, SeriesEntry>();
  private count = 0;

  constructor(private readonly maxSeries = defaultMaxSeries) {}

  /** The series of the scanned dimensions, or undefined when a name repeats (the general path's). */
  find(buf: Buffer, tokens: DimensionTokens): SeriesEntry | undefined {
    const { dimensions, keyStart, keyEnd, valueStart, valueEnd, hash, runStart, runEnd } = tokens;
    const first = this.byHash.get(hash);
    for (let entry = first; entry !== undefined; entry = entry.next) {
      if (sameDimensions(buf, tokens, entry.key)) {
        if (entry.run === undefined && runStart >= 0) entry.run = Buffer.from(buf.subarray(runStart, runEnd));
        return entry;
      }
    }
    for (let d = 1; d < dimensions; d++) {
      for (let e = 0; e < d; e++) {
        if (equalsBytes(buf, keyStart[d]!, keyEnd[d]!, buf.subarray(keyStart[e]!, keyEnd[e]!)))
          return undefined;
      }
    }
    let keyBytes = 0;
    for (let d = 0; d < dimensions; d++)
      keyBytes += keyEnd[d]! - keyStart[d]! + valueEnd[d]! - valueStart[d]! + 2;
    const key = new Uint8Array(keyBytes);
    const list: Dimension[] = new Array(dimensions);
    let k = 0;
    for (let d = 0; d < dimensions; d++) {
      key.set(buf.subarray(keyStart[d]!, keyEnd[d]!), k);
      k += keyEnd[d]! - keyStart[d]!;
      key[k++] = 0;
      key.set(buf.subarray(valueStart[d]!, valueEnd[d]!), k);
      k += valueEnd[d]! - valueStart[d]!;
      key[k++] = 1;
      list[d] = Object.freeze({
        Name: buf.toString("latin1", keyStart[d]!, keyEnd[d]!),
        Value: buf.toString("latin1", valueStart[d]!, valueEnd[d]!),
      });
    }
    if (this.count >= this.maxSeries) {
      this.byHash.clear();
      this.count = 0;
    }
    const run = runStart >= 0 ? Buffer.from(buf.subarray(runStart, runEnd)) : undefined;
    const entry = new SeriesEntry(Object.freeze(list) as Dimension[], key, run, this.byHash.get(hash));
    this.byHash.set(hash, entry);
    this.count++;
    return entry;
  }
}

/** Whether the scanned dimensions are the ones `key` holds (names and values, in order). */
function sameDimensions(buf: Buffer, tokens: DimensionTokens, key: Uint8Array): boolean {
  const { dimensions, keyStart, keyEnd, valueStart, valueEnd } = tokens;
  let k = 0;
  for (let d = 0; d < dimensions; d++) {
    for (let i = keyStart[d]!; i < keyEnd[d]!; i++) if (key[k++] !== buf[i]) return false;
    if (key[k++] !== 0) return false;
    for (let i = valueStart[d]!; i < valueEnd[d]!; i++) if (key[k++] !== buf[i]) return false;
    if (key[k++] !== 1) return false;
  }
  return k === key.length;
}
