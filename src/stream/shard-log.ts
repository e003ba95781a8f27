import { type FileHandle, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { HourglassError } from "../errors.js";
import { checkFrame, frameHeader, soundFrameBytes, stampFrame } from "./frame.js";
import { scanFrames } from "./frame-scan.js";
import { fsyncDirectory } from "./fs-durability.js";
import { RecordPage } from "./record-page.js";
import { parseSegmentFileName, Segment, segmentFileName } from "./segment.js";

export interface ShardLogOptions {
  /** A segment is sealed and a new one started once it holds at least this many bytes. */
  segmentBytes: number;
  /** fsync appends (and new segment files) before they are acknowledged. */
  sync: boolean;
}

/** What recovery on open had to repair: a torn or damaged tail is cut off at its last good frame. */
export interface RecoveryNote {
  file: string;
  truncatedBytes: number;
  reason: string;
}

export interface ShardPosition {
  /** Offset of the oldest record still on disk (retention may hide more of them from readers). */
  firstOffset: number;
  /** Offset the next acknowledged record will get: the count of records ever committed. */
  nextOffset: number;
  /** Arrival time of the newest committed record, 0 when the shard never had one. */
  lastArrivalMs: number;
}

interface PendingAppend {
  firstOffset: number;
  arrivalMs: number;
  startPos: number;
  frameBytes: number[];
}

/** Where the last read of the shard stopped: the next read usually starts there. */
interface ReadPoint {
  segment: Segment;
  offset: number;
  /** File position of the frame with `offset`. */
  pos: number;
}

/**
 * Bytes a read takes from a segment file at a time, each into a fresh buffer that the page's
 * records point into (a GetRecords page of 10,000 records of ~350 B is 4 reads).
 */
const pageReadBytes = 1024 * 1024;

interface Waiter {
  afterOffset: number;
  resolve: (arrived: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * One shard: an ordered list of segment files, the last of which (the tail) takes appends.
 *
 * Writes follow append → sync → commit (or rollback), and are driven by the service one batch at a
 * time; reads only see committed records, so a record is never visible before it is durable, and an
 * offset that a crash takes back was never seen by anyone.
 */
export class ShardLog {
  private segments: Segment[] = [];
  private writer!: FileHandle;
  private writtenBytes = 0;
  private pending: PendingAppend | undefined;
  private dirNeedsSync = false;
  private lastArrivalMs = 0;
  private readonly waiters = new Set<Waiter>();
  private closed = false;
  private lastRead: ReadPoint | undefined;

  private constructor(
    readonly dir: string,
    readonly index: number,
    private readonly options: ShardLogOptions,
  ) {}

  /** Opens (or creates) the shard folder, repairing a torn tail and rebuilding the index. */
  static async open(
    dir: string,
    index: number,
    options: ShardLogOptions,
    notes: RecoveryNote[],
  ): Promise<ShardLog> {
    const shard = new ShardLog(dir, index, options);
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    for (const name of names) if (name.endsWith(".tmp")) await rm(path.join(dir, name), { force: true });
    const offsets = names
      .map(parseSegmentFileName)
      .filter((offset): offset is number => offset !== undefined)
      .sort((a, b) => a - b);
    if (offsets.length === 0) {
      await shard.startSegment(0);
      if (options.sync) await fsyncDirectory(dir);
      shard.dirNeedsSync = false;
      return shard;
    }
    for (const offset of offsets.slice(0, -1)) {
      const segment = new Segment(dir, offset);
      await shard.recoverSealed(segment, notes);
      if (segment.count > 0) shard.segments.push(segment);
      else await segment.remove();
    }
    await shard.recoverTail(offsets.at(-1)!, notes);
    for (let i = 1; i < shard.segments.length; i++) {
      const previous = shard.segments[i - 1]!;
      if (shard.segments[i]!.firstOffset < previous.nextOffset) {
        throw new HourglassError("Internal", `segments overlap in ${dir} after ${previous.path}`);
      }
    }
    for (const segment of shard.segments) if (segment.count > 0) shard.lastArrivalMs = segment.lastArrivalMs;
    return shard;
  }

  private async recoverSealed(segment: Segment, notes: RecoveryNote[]): Promise<void> {
    const fileBytes = (await stat(segment.path)).size;
    if (await segment.readIndexFile(fileBytes)) return;
    const { corrupt } = await segment.scan(fileBytes);
    if (segment.bytes < fileBytes) {
      // Only an unsynced write lost by the operating system can damage a sealed segment: keep what
      // is whole, and let offsets resume in the next segment (readers skip the gap).
      notes.push({
        file: segment.path,
        truncatedBytes: fileBytes - segment.bytes,
        reason: corrupt ?? "trailing bytes",
      });
      await segment.closeHandle();
      const handle = await open(segment.path, "r+");
      try {
        await handle.truncate(segment.bytes);
        if (this.options.sync) await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await segment.closeHandle();
    if (segment.count > 0) await segment.writeIndexFile();
  }

  private async recoverTail(firstOffset: number, notes: RecoveryNote[]): Promise<void> {
    const handle = await open(path.join(this.dir, segmentFileName(firstOffset)), "r+");
    const tail = new Segment(this.dir, firstOffset, handle);
    const fileBytes = (await handle.stat()).size;
    const { corrupt } = await tail.scan(fileBytes);
    if (tail.bytes < fileBytes) {
      // A write torn by a crash: it was never acknowledged, so cutting it off loses nothing promised.
      notes.push({
        file: tail.path,
        truncatedBytes: fileBytes - tail.bytes,
        reason: corrupt ?? "trailing bytes",
      });
      await handle.truncate(tail.bytes);
      if (this.options.sync) await handle.sync();
    }
    this.segments.push(tail);
    this.writer = handle;
    this.writtenBytes = tail.bytes;
  }

  private get tail(): Segment {
    return this.segments.at(-1)!;
  }

  /** Creates an empty tail segment whose first record will get `firstOffset`. */
  private async startSegment(firstOffset: number): Promise<void> {
    const handle = await open(path.join(this.dir, segmentFileName(firstOffset)), "wx+");
    const segment = new Segment(this.dir, firstOffset, handle);
    // Its frames' checksums are computed here as they are appended.
    segment.checksummed = true;
    this.segments.push(segment);
    this.writer = handle;
    this.writtenBytes = 0;
    this.dirNeedsSync = true;
  }

  /** Seals the tail (writing its index file) and starts a new one after it. */
  private async roll(): Promise<void> {
    const sealed = this.tail;
    await sealed.writeIndexFile();
    await this.startSegment(sealed.nextOffset);
  }

  position(): ShardPosition {
    return {
      firstOffset: this.segments[0]!.firstOffset,
      nextOffset: this.tail.nextOffset,
      lastArrivalMs: this.lastArrivalMs,
    };
  }

  // ---- write path: driven by the service, one batch at a time ----

  /**
   * Writes buffers of unstamped frames (see writeUnstampedFrame) after the committed end, stamping
   * offsets and one arrival time; they stay invisible until commit(). Returns the offset of the first.
   */
  async append(buffers: Buffer[], nowMs: number): Promise<number> {
    if (this.pending) throw new HourglassError("Internal", "append while another append is uncommitted");
    if (this.writtenBytes >= this.options.segmentBytes && this.tail.count > 0) await this.roll();
    // Arrival times never go backwards within a shard, so AT_TIMESTAMP can binary-search them.
    const arrivalMs = Math.max(Math.trunc(nowMs), this.lastArrivalMs);
    const firstOffset = this.tail.nextOffset;
    const frameBytes: number[] = [];
    let offset = firstOffset;
    for (const frames of buffers) {
      for (let pos = 0; pos < frames.length; ) {
        const bytes = stampFrame(frames, offset++, arrivalMs, pos);
        frameBytes.push(bytes);
        pos += bytes;
      }
    }
    const startPos = this.writtenBytes;
    this.pending = { firstOffset, arrivalMs, startPos, frameBytes };
    const buffer = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.writer.write(
        buffer,
        written,
        buffer.length - written,
        startPos + written,
      );
      written += bytesWritten;
    }
    this.writtenBytes = startPos + buffer.length;
    return firstOffset;
  }

  /** Makes the appended frames durable (when the sync policy asks for it). */
  async sync(): Promise<void> {
    if (!this.options.sync) return;
    if (this.pending) await this.writer.datasync();
    if (this.dirNeedsSync) await fsyncDirectory(this.dir);
    this.dirNeedsSync = false;
  }

  /** Makes the appended frames visible to readers and wakes those waiting for them. */
  commit(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    let pos = pending.startPos;
    pending.frameBytes.forEach((bytes, i) => {
      this.tail.note(pending.firstOffset + i, pos, bytes, pending.arrivalMs);
      pos += bytes;
    });
    if (pending.frameBytes.length > 0) this.lastArrivalMs = pending.arrivalMs;
    this.wakeWaiters();
  }

  /** Forgets an append that failed: its offsets will be given again, and nobody has seen them. */
  async rollback(): Promise<void> {
    this.pending = undefined;
    this.writtenBytes = this.tail.bytes;
    await this.writer.truncate(this.tail.bytes);
  }

  /**
   * Deletes whole segments whose every record arrived before `cutoffMs`. A fully expired tail is
   * first replaced by an empty one (made durable before the old file goes), so the offset counter,
   * kept in the file names, never goes back.
   */
  async dropExpired(cutoffMs: number): Promise<number> {
    let deleted = 0;
    const expired = (segment: Segment) => segment.count === 0 || segment.lastArrivalMs < cutoffMs;
    if (this.tail.count > 0 && expired(this.tail)) {
      await this.roll();
      if (this.options.sync) await fsyncDirectory(this.dir);
      this.dirNeedsSync = false;
    }
    while (this.segments.length > 1 && expired(this.segments[0]!)) {
      const segment = this.segments.shift()!;
      await segment.remove();
      deleted++;
    }
    return deleted;
  }

  // ---- read path: concurrent with writes, sees committed records only ----

  /** The segment holding `offset`, or the next one after a gap or before the first; undefined at the end. */
  private segmentFor(offset: number): Segment | undefined {
    let low = 0;
    let high = this.segments.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.segments[mid]!.firstOffset <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    for (let i = found; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (offset < segment.nextOffset) return segment;
    }
    return undefined;
  }

  /**
   * Reads up to `limit` committed records from `fromOffset` on (at least one if any, even past
   * `maxBytes`), skipping records that arrived before `cutoffMs` (expired but not yet swept).
   * Returns them as a page (in the buffers read, see RecordPage) and the offset to read from next.
   */
  async readPage(
    fromOffset: number,
    limit: number,
    maxBytes: number,
    cutoffMs: number,
  ): Promise<{ page: RecordPage; nextOffset: number }> {
    const page = new RecordPage(this.index);
    let offset = fromOffset;
    const first = this.segmentFor(offset);
    if (first && first.count > 0 && first.firstArrivalMs < cutoffMs) {
      offset = Math.max(offset, await this.offsetAtTime(cutoffMs));
    }
    let bytes = 0;
    let full = false;
    while (page.count < limit && !full) {
      this.assertOpen();
      const segment = this.segmentFor(offset);
      if (!segment) break;
      if (!segment.pin()) continue;
      try {
        offset = Math.max(offset, segment.firstOffset);
        const endBytes = segment.bytes;
        const endOffset = segment.nextOffset;
        const verifyChecksums = !segment.checksummed;
        const handle = await segment.file();
        const resume = this.lastRead;
        let pos =
          resume?.segment === segment && resume.offset === offset
            ? resume.pos
            : segment.sparse.positionAtOrBefore(offset);
        let needBytes = 0;
        while (pos < endBytes && page.count < limit && !full) {
          const size = Math.min(Math.max(pageReadBytes, needBytes), endBytes - pos);
          const buffer = Buffer.allocUnsafe(size);
          await readFully(handle, buffer, pos, segment.path);
          let bufferNumber = -1;
          let p = 0;
          needBytes = 0;
          while (p < size) {
            const frameBytes = soundFrameBytes(buffer, p, verifyChecksums);
            if (frameBytes === 0) {
              const check = checkFrame(buffer, p, verifyChecksums);
              if (check.kind === "incomplete" && pos + p + check.needBytes <= endBytes) {
                needBytes = check.needBytes; // the frame runs past this read: the next one starts at it
                break;
              }
              const reason =
                check.kind === "corrupt"
                  ? check.reason
                  : `frame at ${pos + p} runs past the end of the segment`;
              throw new HourglassError("Internal", `damaged segment ${segment.path}: ${reason}`);
            }
            const frameOffset = buffer.readUIntLE(p + 8, 6);
            if (frameOffset >= offset) {
              if (buffer.readUIntLE(p + 14, 6) < cutoffMs) {
                offset = frameOffset + 1;
              } else {
                if (page.count > 0 && bytes + frameBytes > maxBytes) {
                  full = true;
                  break;
                }
                if (bufferNumber < 0) bufferNumber = page.addBuffer(buffer);
                page.addFrame(bufferNumber, p);
                bytes += frameBytes;
                offset = frameOffset + 1;
                if (page.count >= limit) {
                  p += frameBytes;
                  break;
                }
              }
            }
            p += frameBytes;
          }
          pos += p;
        }
        // `pos` is where the frame of `offset` starts (or the segment's end): the next read starts there.
        this.lastRead = { segment, offset, pos };
        if (page.count < limit && !full) offset = Math.max(offset, endOffset);
      } finally {
        segment.unpin();
      }
    }
    return { page, nextOffset: offset };
  }

  /** The offset of the first committed record that arrived at or after `timeMs` (nextOffset if none). */
  async offsetAtTime(timeMs: number): Promise<number> {
    for (;;) {
      this.assertOpen();
      const segment = this.segments.find(
        (candidate) => candidate.count > 0 && candidate.lastArrivalMs >= timeMs,
      );
      if (!segment) return this.tail.nextOffset;
      if (segment.firstArrivalMs >= timeMs) return segment.firstOffset;
      if (!segment.pin()) continue;
      try {
        let found: number | undefined;
        const handle = await segment.file();
        const endBytes = segment.bytes;
        await scanFrames(handle, segment.sparse.positionArrivedBefore(timeMs), endBytes, (buf, pos) => {
          const header = frameHeader(buf, pos);
          if (header.arrivalMs < timeMs) return true;
          found = header.offset;
          return false;
        });
        if (found === undefined)
          throw new HourglassError("Internal", `no record at ${timeMs} in ${segment.path}`);
        return found;
      } finally {
        segment.unpin();
      }
    }
  }

  // ---- waiting for new records ----

  /** Resolves true once a record after `afterOffset` is committed (-1: any), false after timeoutMs. */
  waitForRecords(afterOffset: number, timeoutMs: number): Promise<boolean> {
    if (this.tail.nextOffset - 1 > afterOffset) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        afterOffset,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private wakeWaiters(): void {
    const last = this.tail.nextOffset - 1;
    for (const waiter of this.waiters) {
      if (last > waiter.afterOffset) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  /** Ends every wait with true: a reshard closed the shard, so its readers read again and find its end. */
  releaseWaiters(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
    this.waiters.clear();
  }

  /** Ends every wait with false (the shard is closing or its stream is deleted). */
  cancelWaiters(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new HourglassError("Conflict", `shard ${this.dir} is closed`);
  }

  /** Closes the files (a read in flight keeps its segment's file until it is done). */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelWaiters();
    for (const segment of this.segments) await segment.retire();
  }
}

/** Fills `buffer` from `pos` of the file; a file shorter than its committed size is damaged. */
async function readFully(handle: FileHandle, buffer: Buffer, pos: number, file: string): Promise<void> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, pos + filled);
    if (bytesRead === 0) {
      throw new HourglassError("Internal", `damaged segment ${file}: it ends at ${pos + filled}`);
    }
    filled += bytesRead;
  }
}
