/**
 * Task logs: one file per try, `<logsDir>/<dag>/<run_id>/<task>/<try>.log`, with timestamped lines
 * in Airflow's manner (`[2021-09-23 08:00:03,630] {ts_query} INFO - Data will be uploaded to …`).
 * Earlier tries keep their files, so a cleared task's history stays readable. Lines are appended
 * with O_APPEND, so the worker (the task's own lines) and the pool (lines about the process) can
 * both write to one file.
 */
import fs from "node:fs";
import path from "node:path";
import { notFound, validationError } from "../../errors.js";

export type LogLevel = "INFO" | "WARNING" | "ERROR";

/** A path segment from an id: run ids hold ':' and '+', which are fine; '/' and '..' are not. */
function segment(name: string, what: string): string {
  if (typeof name !== "string" || name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw validationError(`${what} ${JSON.stringify(name)} cannot name a log folder`);
  }
  return name;
}

export function taskLogPath(
  logsDir: string,
  dagId: string,
  runId: string,
  taskId: string,
  tryNumber: number,
): string {
  if (!Number.isSafeInteger(tryNumber) || tryNumber < 1) {
    throw validationError(`a try number is an integer >= 1, got ${String(tryNumber)}`);
  }
  return path.join(
    logsDir,
    segment(dagId, "DAG id"),
    segment(runId, "run id"),
    segment(taskId, "task id"),
    `${tryNumber}.log`,
  );
}

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** `[2021-09-23 08:00:03,630] {task} INFO - message`, in UTC; a message of several lines stays one entry. */
export function formatLogLine(at: Date, source: string, level: LogLevel, message: string): string {
  const stamp =
    `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())},${pad(at.getUTCMilliseconds(), 3)}`;
  return `[${stamp}] {${source}} ${level} - ${message.replace(/\n(?!$)/g, "\n    ")}\n`;
}

/**
 * Appends one entry; a log that cannot be written never fails the task (the error goes to stderr).
 * The folders are made only when the file's folder is missing (the first line of a try): most
 * lines go to a file that exists, and a recursive mkdir per line cost more than the line.
 */
export function appendLog(file: string, source: string, level: LogLevel, message: string): void {
  const line = formatLogLine(new Date(), source, level, message);
  try {
    try {
      fs.appendFileSync(file, line);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, line);
    }
  } catch (error) {
    process.stderr.write(`cannot write task log ${file}: ${String(error)}\n`);
  }
}

/** The text of one try's log; NotFound when the try never ran (or its log was removed). */
export function readTaskLog(
  logsDir: string,
  dagId: string,
  runId: string,
  taskId: string,
  tryNumber: number,
): string {
  const file = taskLogPath(logsDir, dagId, runId, taskId, tryNumber);
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw notFound(`no log for try ${tryNumber} of task ${taskId} in run ${runId} of ${dagId}`, {
      dagId,
      runId,
      taskId,
      tryNumber,
    });
  }
}
