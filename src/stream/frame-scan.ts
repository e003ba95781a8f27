import type { FileHandle } from "node:fs/promises";
import { checkFrame } from "./frame.js";

/** Bytes read from a segment file at a time; frames larger than this get a buffer of their own. */
export const scanChunkBytes = 256 * 1024;

/**
 * Called for each whole, checksum-valid frame; `buf` is only valid during the call. Return false to
 * stop the scan (the frame counts as visited).
 */
export type FrameVisitor = (buf: Buffer, pos: number, frameBytes: number, filePos: number) => boolean;

export interface ScanResult {
  /** File position just after the last visited frame. */
  endPos: number;
  /** Set when the scan stopped at a frame that is torn or damaged, at `endPos`. */
  corrupt?: string;
}

/**
 * Visits the frames in [startPos, endPos) of a segment file with positioned reads of bounded size,
 * so that a large backlog never has to fit in memory.
 */
export async function scanFrames(
  handle: FileHandle,
  startPos: number,
  endPos: number,
  visit: FrameVisitor,
): Promise<ScanResult> {
  let buf = Buffer.alloc(0);
  let bufStartPos = startPos; // file position of buf[0]
  let filled = 0;
  let pos = 0; // next frame within buf
  for (;;) {
    const framePos = bufStartPos + pos;
    if (framePos >= endPos) return { endPos: framePos };
    const check = checkFrame(buf.subarray(0, filled), pos);
    if (check.kind === "corrupt") return { endPos: framePos, corrupt: check.reason };
    if (check.kind === "ok") {
      const keepGoing = visit(buf, pos, check.frameBytes, framePos);
      pos += check.frameBytes;
      if (!keepGoing) return { endPos: bufStartPos + pos };
      continue;
    }
    // The frame runs past what is buffered: keep its start, read on.
    if (framePos + check.needBytes > endPos) {
      return { endPos: framePos, corrupt: `frame at ${framePos} runs past the end of the segment` };
    }
    const leftover = filled - pos;
    const size = Math.max(Math.min(scanChunkBytes, endPos - framePos), check.needBytes);
    const next = buf.length >= size ? buf : Buffer.allocUnsafe(size);
    if (leftover > 0 && (next !== buf || pos > 0)) buf.copy(next, 0, pos, filled);
    buf = next;
    bufStartPos = framePos;
    pos = 0;
    filled = leftover;
    const want = Math.min(buf.length - filled, endPos - (bufStartPos + filled));
    const { bytesRead } = await handle.read(buf, filled, want, bufStartPos + filled);
    if (bytesRead === 0) return { endPos: framePos, corrupt: `segment ends at ${bufStartPos + filled}` };
    filled += bytesRead;
  }
}
