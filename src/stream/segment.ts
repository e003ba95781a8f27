import { type FileHandle, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { frameHeader } from "./frame.js";
import { scanFrames } from "./frame-scan.js";
import { SparseIndex } from "./sparse-index.js";

/** Segment files are named by the offset of their first record, zero-padded so names sort. */
const segmentNameDigits = 20;
export const segmentSuffix = ".seg";
const indexSuffix = ".idx";

export const segmentFileName = (firstOffset: number): string =>
  String(firstOffset).padStart(segmentNameDigits, "0") + segmentSuffix;

const segmentNamePattern = new RegExp(`^(\\d{${segmentNameDigits}})\\${segmentSuffix}$`);

/** The first offset a segment file name stands for, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = segmentNamePattern.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * One append-only file of frames. `count` and `bytes` describe what is committed (written, synced
 * and visible to readers); the writer may have written more past `bytes` that is not yet visible.
 *
 * A read pins the segment while it uses the file, so that the retention sweep can delete it while
 * a read is in flight: the file handle is closed when the last pin goes.
 */
export class Segment {
  count = 0;
  bytes = 0;
  firstArrivalMs = 0;
  lastArrivalMs = 0;
  sparse = new SparseIndex();
  removed = false;
  /**
   * Every frame's checksum was computed or checked by this process (a segment it created, or one
   * it scanned on open), so reads skip it. A sealed segment opened from its index file was not
   * read: its reads check every checksum, and report damage.
   */
  checksummed = false;
  private pins = 0;
  private handle: Promise<FileHandle> | undefined;

  constructor(
    readonly dir: string,
    readonly firstOffset: number,
    handle?: FileHandle,
  ) {
    if (handle) this.handle = Promise.resolve(handle);
  }

  get path(): string {
    return path.join(this.dir, segmentFileName(this.firstOffset));
  }

  get indexPath(): string {
    return this.path.slice(0, -segmentSuffix.length) + indexSuffix;
  }

  /** The offset the next record appended to this segment gets. */
  get nextOffset(): number {
    return this.firstOffset + this.count;
  }

  /** Adds a committed record to the summary and the sparse index. */
  note(offset: number, pos: number, frameBytes: number, arrivalMs: number): void {
    if (this.count === 0) this.firstArrivalMs = arrivalMs;
    this.lastArrivalMs = arrivalMs;
    this.sparse.consider(offset, pos, arrivalMs);
    this.count = offset - this.firstOffset + 1;
    this.bytes = pos + frameBytes;
  }

  /** Returns false when the segment was deleted: the caller must look again from the shard. */
  pin(): boolean {
    if (this.removed) return false;
    this.pins++;
    return true;
  }

  unpin(): void {
    this.pins--;
    if (this.removed && this.pins === 0) void this.closeHandle();
  }

  /** The file handle, opened for reading on first use (the tail's is opened for writing too). */
  file(): Promise<FileHandle> {
    this.handle ??= open(this.path, "r");
    return this.handle;
  }

  /** Takes the segment out of use: its handle is closed now, or when the last reader unpins. */
  async retire(): Promise<void> {
    this.removed = true;
    if (this.pins === 0) await this.closeHandle();
  }

  /** Deletes the files and retires the segment (a pinned reader keeps the open file until done). */
  async remove(): Promise<void> {
    this.removed = true;
    await rm(this.path, { force: true });
    await rm(this.indexPath, { force: true });
    await this.retire();
  }

  async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }

  /**
   * Writes the summary and sparse index next to a sealed segment so the next open need not scan it.
   * Not synced: it is derived data, and a missing or damaged index file only costs a rescan.
   */
  async writeIndexFile(): Promise<void> {
    const body: IndexFile = {
      version: 1,
      firstOffset: this.firstOffset,
      count: this.count,
      bytes: this.bytes,
      firstArrivalMs: this.firstArrivalMs,
      lastArrivalMs: this.lastArrivalMs,
      ...this.sparse.toJSON(),
    };
    const temp = `${this.indexPath}.tmp`;
    await writeFile(temp, JSON.stringify(body));
    await rename(temp, this.indexPath);
  }

  /** Loads the index file if it matches the segment file (same first offset and size); else false. */
  async readIndexFile(fileBytes: number): Promise<boolean> {
    let parsed: IndexFile;
    try {
      parsed = indexFileSchema.parse(JSON.parse(await readFile(this.indexPath, "utf8")));
    } catch {
      return false;
    }
    const lengths = [parsed.offsets.length, parsed.positions.length, parsed.arrivals.length];
    if (parsed.firstOffset !== this.firstOffset || parsed.bytes !== fileBytes) return false;
    if (lengths.some((length) => length !== lengths[0]) || (parsed.count > 0 && lengths[0] === 0))
      return false;
    this.count = parsed.count;
    this.bytes = parsed.bytes;
    this.firstArrivalMs = parsed.firstArrivalMs;
    this.lastArrivalMs = parsed.lastArrivalMs;
    this.sparse = SparseIndex.from(parsed);
    return true;
  }

  /**
   * Rebuilds the summary by reading every frame of the file. Stops at the first frame that is torn,
   * damaged, out of sequence or earlier in time than its predecessor, and says why.
   */
  async scan(fileBytes: number): Promise<{ corrupt?: string }> {
    this.count = 0;
    this.bytes = 0;
    this.sparse = new SparseIndex();
    let outOfOrder: string | undefined;
    const handle = await this.file();
    const result = await scanFrames(handle, 0, fileBytes, (buf, pos, frameBytes, filePos) => {
      const { offset, arrivalMs } = frameHeader(buf, pos);
      if (offset !== this.nextOffset) {
        outOfOrder = `frame at ${filePos} has offset ${offset}, expected ${this.nextOffset}`;
        return false;
      }
      if (this.count > 0 && arrivalMs < this.lastArrivalMs) {
        outOfOrder = `frame at ${filePos} arrived before its predecessor`;
        return false;
      }
      this.note(offset, filePos, frameBytes, arrivalMs);
      return true;
    });
    const corrupt = outOfOrder ?? result.corrupt;
    // What the scan kept was checked, and whatever follows it is cut off by the caller.
    this.checksummed = true;
    return corrupt === undefined ? {} : { corrupt };
  }
}

const indexFileSchema = z.object({
  version: z.literal(1),
  firstOffset: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  firstArrivalMs: z.number().int().nonnegative(),
  lastArrivalMs: z.number().int().nonnegative(),
  offsets: z.array(z.number().int().nonnegative()),
  positions: z.array(z.number().int().nonnegative()),
  arrivals: z.array(z.number().int().nonnegative()),
});

type IndexFile = z.infer<typeof indexFileSchema>;
