/**
 * `hourglass up` leaves `server.json` in the state folder so that CLI commands can find the
 * running server and talk to it over HTTP instead of opening the state folder themselves
 * (DuckDB allows one writing process per file).
 */
import fs from "node:fs";
import path from "node:path";

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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The running server of this state folder, or null (a file left by a dead process is ignored). */
export function readServerInfo(stateDir: string): ServerInfo | null {
  try {
    const info = JSON.parse(fs.readFileSync(fileOf(stateDir), "utf8")) as ServerInfo;
    return alive(info.pid) ? info : null;
  } catch {
    return null;
  }
}
