/**
 * A progress bar for long work (load generation, backfills, imports), written to stderr so that
 * stdout stays clean for results. On a terminal it redraws one line in place with `\r`; elsewhere
 * (CI logs, files, pipes) it prints a plain line every `logIntervalMs` so logs stay readable.
 * No dependencies.
 */
import { validationError } from "../errors.js";

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Amount of work in all, when known: enables the bar, the percentage and the ETA. */
  total?: number;
  /** Unit of work, shown after counts and rates (default "records"). */
  unit?: string;
  /** Where to draw (default process.stderr). */
  output?: ProgressOutput;
  /** Non-terminal output: a line at most this often (default 10 s). */
  logIntervalMs?: number;
  /** Terminal output: redraw at most this often (default 100 ms). */
  redrawIntervalMs?: number;
  /** Milliseconds, for tests (default performance.now). */
  now?: () => number;
}

export interface Progress {
  /** Adds `n` (default 1) to the work done. */
  tick(n?: number): void;
  /** Sets the work done to `done`. */
  update(done: number): void;
  /** Draws the final line and ends it with a newline; later calls do nothing. */
  done(): void;
}

const defaultLogIntervalMs = 10_000;
const defaultRedrawIntervalMs = 100;
const barWidthChars = 24;
const clearToEndOfLine = "\x1b[K";

export function createProgress(options: ProgressOptions): Progress {
  if (options === null || typeof options !== "object")
    throw validationError("progress options must be an object");
  const { label, total } = options;
  if (typeof label !== "string" || label.trim() === "") {
    throw validationError("progress label must be a non-empty string", { label });
  }
  if (total !== undefined && (typeof total !== "number" || !Number.isFinite(total) || total < 0)) {
    throw validationError(`progress total must be a finite number >= 0, got ${String(total)}`, { total });
  }
  const logIntervalMs = checkInterval(options.logIntervalMs ?? defaultLogIntervalMs, "logIntervalMs");
  const redrawIntervalMs = checkInterval(
    options.redrawIntervalMs ?? defaultRedrawIntervalMs,
    "redrawIntervalMs",
  );
  const unit = options.unit ?? "records";
  const output: ProgressOutput = options.output ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const isTerminal = output.isTTY === true;

  const startedMs = now();
  let doneCount = 0;
  // A terminal shows the first tick at once; a log's first line comes after one interval, so short
  // work prints only its final line.
  let lastDrawMs = isTerminal ? Number.NEGATIVE_INFINITY : startedMs;
  let finished = false;

  const line = (): string => {
    const elapsedSeconds = (now() - startedMs) / 1000;
    const rate = elapsedSeconds > 0 ? doneCount / elapsedSeconds : 0;
    const parts = [label];
    if (total !== undefined) {
      const fraction = total > 0 ? Math.min(1, doneCount / total) : 1;
      if (isTerminal) parts.push(bar(fraction));
      parts.push(`${formatCount(doneCount)}/${formatCount(total)} ${unit}`);
      parts.push(`${(fraction * 100).toFixed(1)}%`);
    } else {
      parts.push(`${formatCount(doneCount)} ${unit}`);
    }
    parts.push(`${formatCount(rate)} ${unit}/s`);
    if (total !== undefined && !finished) {
      parts.push(rate > 0 ? `ETA ${formatDuration(Math.max(0, total - doneCount) / rate)}` : "ETA --");
    } else {
      parts.push(`in ${formatDuration(elapsedSeconds)}`);
    }
    return parts.join("  ");
  };

  // A line wider than the terminal wraps, and `\r` then redraws only its last row.
  const fitted = (text: string): string =>
    output.columns !== undefined && output.columns > 1 && text.length >= output.columns
      ? text.slice(0, output.columns - 1)
      : text;

  const draw = (): void => {
    const t = now();
    if (t - lastDrawMs < (isTerminal ? redrawIntervalMs : logIntervalMs)) return;
    lastDrawMs = t;
    if (isTerminal) output.write(`\r${fitted(line())}${clearToEndOfLine}`);
    else output.write(`${line()}\n`);
  };

  return {
    tick(n = 1) {
      if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
        throw validationError(`progress tick must be a finite number >= 0, got ${String(n)}`, { n });
      }
      if (finished) return;
      doneCount += n;
      draw();
    },
    update(done) {
      if (typeof done !== "number" || !Number.isFinite(done) || done < 0) {
        throw validationError(`progress update must be a finite number >= 0, got ${String(done)}`, { done });
      }
      if (finished) return;
      doneCount = done;
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      if (isTerminal) output.write(`\r${fitted(line())}${clearToEndOfLine}\n`);
      else output.write(`${line()}\n`);
    },
  };
}

function checkInterval(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw validationError(`${name} must be a finite number >= 0, got ${String(value)}`, { [name]: value });
  }
  return value;
}

function bar(fraction: number): string {
  const filled = Math.round(fraction * barWidthChars);
  return `[${"#".repeat(filled)}${"-".repeat(barWidthChars - filled)}]`;
}

/** 1234567 → "1,234,567"; rates keep one decimal below 10. */
export function formatCount(value: number): string {
  if (value > 0 && value < 10 && !Number.isInteger(value)) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

/** Seconds → "42s", "3m05s", "2h07m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
