/**
 * An append-only log file with a size bound: when a line would take `server.log` past
 * `maxBytes`, it becomes `server.log.1` (the older ones shift to `.2` … and the oldest beyond
 * `keepFiles` is deleted) and a new `server.log` starts. Writes are synchronous: log lines are
 * few (failures, state changes), and the last lines before a crash are then on disk.
 */
import fs from "node:fs";

export const DEFAULT_LOG_FILE_BYTES = 10 * 1024 * 1024;
/** server.log and server.log.1 … .4: at most 5 × 10 MB. */
export const DEFAULT_LOG_FILES_KEPT = 5;

export interface RotatingFileOptions {
  maxBytes?: number;
  /** How many files are kept, the current one included (at least 1). */
  keepFiles?: number;
  /** Told once when the file cannot be written (the log then goes on to its other outputs). */
  onWriteError?: (error: unknown) => void;
}

export class RotatingFile {
  readonly #file: string;
  readonly #maxBytes: number;
  readonly #keepFiles: number;
  readonly #onWriteError: (error: unknown) => void;
  #fd: number | null = null;
  #size = 0;
  #failed = false;

  constructor(file: string, options: RotatingFileOptions = {}) {
    this.#file = file;
    this.#maxBytes = options.maxBytes ?? DEFAULT_LOG_FILE_BYTES;
    this.#keepFiles = Math.max(1, options.keepFiles ?? DEFAULT_LOG_FILES_KEPT);
    this.#onWriteError = options.onWriteError ?? (() => {});
  }

  /** Appends one line (pino hands over whole lines, newline included). A failure never throws. */
  write(line: string): void {
    try {
      const bytes = Buffer.byteLength(line);
      if (this.#fd === null) this.#open();
      // A line longer than the bound still goes in whole, into a file of its own.
      if (this.#size > 0 && this.#size + bytes > this.#maxBytes) this.#rotate();
      fs.writeSync(this.#fd!, line);
      this.#size += bytes;
      this.#failed = false;
    } catch (error) {
      // Said once per run of failures (a full disk would otherwise repeat it on every line).
      if (!this.#failed) this.#onWriteError(error);
      this.#failed = true;
      this.close();
    }
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      fs.closeSync(fd);
    } catch {
      // Already gone: nothing more to flush.
    }
  }

  #open(): void {
    this.#fd = fs.openSync(this.#file, "a");
    this.#size = fs.fstatSync(this.#fd).size;
  }

  #rotate(): void {
    this.close();
    const older = (n: number) => `${this.#file}.${n}`;
    fs.rmSync(older(this.#keepFiles - 1), { force: true });
    for (let n = this.#keepFiles - 2; n >= 1; n -= 1) {
      if (fs.existsSync(older(n))) fs.renameSync(older(n), older(n + 1));
    }
    if (this.#keepFiles > 1) fs.renameSync(this.#file, older(1));
    else fs.rmSync(this.#file, { force: true });
    this.#open();
  }
}
