/**
 * The process log of `hourglass up`: JSON lines (pino) at the configured level in
 * `<stateDir>/logs/server.log` (size-rotated), and warnings and errors on stderr too, as one
 * short readable line each when stderr is a terminal. Worker processes log through the same
 * format over their IPC channel (createLog with a `write` that sends), and the server relays
 * their lines into its own log (relayLogLine).
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { DEFAULT_LOG_FILE_BYTES, DEFAULT_LOG_FILES_KEPT, RotatingFile } from "./rotating-file.js";
import type { Log, LogLevel } from "./types.js";

export interface ServerLogOptions {
  stateDir: string;
  level: LogLevel;
  /** Where warnings and errors also go (default process.stderr). */
  stderr?: { write(text: string): unknown; isTTY?: boolean };
  /** Bound of one log file (default 10 MB) and how many are kept (default 5). */
  maxFileBytes?: number;
  keepFiles?: number;
}

export interface ServerLog {
  readonly log: Log;
  /** `<stateDir>/logs/server.log`. */
  readonly file: string;
  close(): void;
}

export function serverLogPath(stateDir: string): string {
  return path.join(stateDir, "logs", "server.log");
}

export function openServerLog(options: ServerLogOptions): ServerLog {
  const file = serverLogPath(options.stateDir);
  const stderr = options.stderr ?? process.stderr;
  if (options.level === "silent") return { log: pino({ level: "silent" }), file, close() {} };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rotating = new RotatingFile(file, {
    maxBytes: options.maxFileBytes ?? DEFAULT_LOG_FILE_BYTES,
    keepFiles: options.keepFiles ?? DEFAULT_LOG_FILES_KEPT,
    onWriteError: (error) =>
      stderr.write(
        `hourglass: cannot write the log file ${file}: ${String(error)} (logging to stderr only)\n`,
      ),
  });
  const toStderr = stderr.isTTY
    ? { write: (line: string) => stderr.write(readableLine(line)) }
    : { write: (line: string) => stderr.write(line) };
  const streams = pino.multistream([
    { level: options.level, stream: rotating },
    { level: "warn", stream: toStderr },
  ]);
  const log = pino({ level: options.level, timestamp: pino.stdTimeFunctions.isoTime }, streams);
  return { log, file, close: () => rotating.close() };
}

/** A logger writing JSON lines to `write` (a worker process sends them to the server). */
export function createLog(options: {
  level: LogLevel;
  write: (line: string) => void;
  bindings?: object;
}): Log {
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid, ...options.bindings },
    },
    { write: options.write },
  );
}

/** A logger that drops everything (the default of a part given none). */
export const silentLog: Log = pino({ level: "silent" });

const LEVEL_NAMES: Record<number, Exclude<LogLevel, "silent">> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "error",
};

/**
 * Logs a JSON line another process wrote (createLog) through `log`, at the line's own level and
 * with its fields (its pid as `sourcePid`); `log`'s time is kept. A line that is not one of ours is logged as it is, at info.
 */
export function relayLogLine(log: Log, line: string): void {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    log.info({}, line);
    return;
  }
  const { level, msg, time: _time, hostname: _hostname, pid, ...details } = parsed;
  const name = LEVEL_NAMES[typeof level === "number" ? level : 30] ?? "info";
  // `pid` is the relaying process's own: the writer's is kept beside it.
  log[name](pid === undefined ? details : { ...details, sourcePid: pid }, typeof msg === "string" ? msg : "");
}

/** `12:03:04.567 WARN  message key=value …`: one line of pino's JSON as a person reads it. */
export function readableLine(line: string): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, msg, time, pid: _pid, hostname: _hostname, err, ...details } = parsed;
  const name = (LEVEL_NAMES[typeof level === "number" ? level : 30] ?? "info").toUpperCase();
  const clock = typeof time === "string" ? time.slice(11, 23) : "";
  const fields = Object.entries(details).map(
    ([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`,
  );
  // The stack stays in the log file: the terminal gets the error's message.
  if (err !== null && typeof err === "object")
    fields.push(`err=${JSON.stringify((err as { message?: unknown }).message ?? "")}`);
  return `${clock} ${name.padEnd(5)} ${String(msg ?? "")}${fields.length > 0 ? ` ${fields.join(" ")}` : ""}\n`;
}
