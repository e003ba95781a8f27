/**
 * `hourglass up` leaves `server.json` in the state folder so that CLI commands can find the
 * running server and talk to it over HTTP instead of opening the state folder themselves
 * (DuckDB allows one writing process per file).
 */
import fs from "node:fs";
import path from "node:path";
import { acquireProcessLock, isProcessLockHeld, type ProcessLock } from "../process-lock.js";

export interface ServerInfo {
  pid: number;
  url: string;
  startedAt: string;
}

const fileOf = (stateDir: string) => path.join(stateDir, "server.json");

export function writeServerInfo(stateDir: string, info: ServerInfo): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const tmp = `${fileOf(stateDir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info));
  fs.renameSync(tmp, fileOf(stateDir));
}

export function removeServerInfo(stateDir: string): void {
  try {
    const info = JSON.parse(fs.readFileSync(fileOf(stateDir), "utf8")) as ServerInfo;
    if (info.pid === process.pid) fs.rmSync(fileOf(stateDir), { force: true });
  } catch {
    // nothing to remove
  }
}

const lockOf = (stateDir: string) => path.join(stateDir, "server.lock");

/**
 * Makes this process the state folder's server, or throws Conflict if a live one is. The lock is
 * the kernel's (process-lock.ts): a server killed with kill -9 frees it at once, zombie or not.
 */
export async function acquireServerLock(stateDir: string): Promise<ProcessLock> {
  fs.mkdirSync(stateDir, { recursive: true });
  return acquireProcessLock(lockOf(stateDir), `the state folder ${stateDir} (its server)`);
}

/**
 * The running server of this state folder, or null. server.json alone proves nothing (a killed
 * server leaves it behind): the server's lock must be held too.
 */
export function readServerInfo(stateDir: string): ServerInfo | null {
  try {
    const info = JSON.parse(fs.readFileSync(fileOf(stateDir), "utf8")) as ServerInfo;
    return isProcessLockHeld(lockOf(stateDir)) ? info : null;
  } catch {
    return null;
  }
}
