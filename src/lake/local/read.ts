/**
 * Reading a byte span of an open file as a stream that owns the file: the handle is closed when
 * the stream ends, fails, or is destroyed (a client that hangs up), even if it was never read.
 */
import type { promises as fs } from "node:fs";
import { Readable } from "node:stream";

const readChunkBytes = 256 * 1024;

/** Bytes `start` to `end` (inclusive) of the file open as `handle`; an `end` below `start` is nothing. */
export function streamFileSpan(handle: fs.FileHandle, start: number, end: number): Readable {
  let position = start;
  const stop = end + 1;
  return new Readable({
    read() {
      const length = Math.min(readChunkBytes, stop - position);
      if (length <= 0) {
        this.push(null);
        return;
      }
      handle.read(Buffer.allocUnsafe(length), 0, length, position).then(
        ({ bytesRead, buffer }) => {
          if (bytesRead === 0) {
            // Objects are replaced by rename, never truncated in place: this file was cut by someone else.
            this.destroy(new Error(`the file ended at byte ${position}, before byte ${end}`));
            return;
          }
          position += bytesRead;
          this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
        },
        (error: unknown) => this.destroy(error as Error),
      );
    },
    destroy(error, callback) {
      handle.close().then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}
