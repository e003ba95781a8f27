/** The log part's public surface: one structured logger for the server, its workers and its loops. */
export { DEFAULT_LOG_FILE_BYTES, DEFAULT_LOG_FILES_KEPT, RotatingFile } from "./rotating-file.js";
export {
  createLog,
  openServerLog,
  readableLine,
  relayLogLine,
  type ServerLog,
  type ServerLogOptions,
  serverLogPath,
  silentLog,
} from "./server-log.js";
export { LOG_LEVELS, type Log, type LogLevel } from "./types.js";
