/**
 * A sparse in-memory index of one segment: the file position and arrival time of every Nth record
 * (and at least one every `indexEveryBytes`), so that a read at an offset or a timestamp seeks close
 * to it and scans only a few frames, instead of the whole segment.
 */
export const indexEveryRecords = 128;
export const indexEveryBytes = 256 * 1024;

export class SparseIndex {
  constructor(
    readonly offsets: number[] = [],
    readonly positions: number[] = [],
    readonly arrivals: number[] = [],
  ) {}

  /** Records the frame at (offset, pos) if it is far enough from the last entry. */
  consider(offset: number, pos: number, arrivalMs: number): void {
    const last = this.offsets.length - 1;
    if (
      last >= 0 &&
      offset - this.offsets[last]! < indexEveryRecords &&
      pos - this.positions[last]! < indexEveryBytes
    ) {
      return;
    }
    this.offsets.push(offset);
    this.positions.push(pos);
    this.arrivals.push(arrivalMs);
  }

  /** The file position of the last entry at or before `offset` (0 when there is none). */
  positionAtOrBefore(offset: number): number {
    const i = lastIndexWhere(this.offsets, (value) => value <= offset);
    return i < 0 ? 0 : this.positions[i]!;
  }

  /** The file position of the last entry that arrived before `timeMs` (0 when there is none). */
  positionArrivedBefore(timeMs: number): number {
    const i = lastIndexWhere(this.arrivals, (value) => value < timeMs);
    return i < 0 ? 0 : this.positions[i]!;
  }

  toJSON(): { offsets: number[]; positions: number[]; arrivals: number[] } {
    return { offsets: this.offsets, positions: this.positions, arrivals: this.arrivals };
  }

  static from(data: { offsets: number[]; positions: number[]; arrivals: number[] }): SparseIndex {
    return new SparseIndex([...data.offsets], [...data.positions], [...data.arrivals]);
  }
}

/** Binary search over an ascending array: the last index whose value satisfies `test` (a prefix). */
export function lastIndexWhere(values: readonly number[], test: (value: number) => boolean): number {
  let low = 0;
  let high = values.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (test(values[mid]!)) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}
