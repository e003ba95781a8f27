/**
 * A lock that the kernel releases the moment its process dies, for the places where one process
 * must own a state folder (the stream log's appender, the running server).
 *
 * A pid in a file is not enough: after kill -9 the pid stays "alive" to `kill(pid, 0)` until the
 * parent reaps the zombie, and a pid can be reused by an unrelated process. On Linux the lock is a
 * listening Unix socket in the abstract namespace, named after the lock file's real path: the
 * kernel frees the name when the last descriptor closes, which process exit does before the
 * process becomes a zombie. Node opens sockets close-on-exec, so child processes never inherit it.
 * The lock file is still written, with the owner's pid, for people and for error messages.
 * Elsewhere (macOS, Windows) the pid check is the fallback.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { conflict } from "./errors.js";

export interface ProcessLock {
  readonly path: string;
  /** Frees the lock and removes the lock file. Idempotent. */
  release(): Promise<void>;
}

const useAbstractSockets = process.platform === "linux";
/** Locks this process holds, by real path: a second acquire in the same process is a Conflict too. */
const held = new Map<string, ProcessLock>();

/**
 * Takes the lock at `lockPath` (its folder must exist) or throws Conflict naming the owner's pid.
 * `what` names the thing locked, for the message ("the stream state", "the server").
 */
export async function acquireProcessLock(lockPath: string, what: string): Promise<ProcessLock> {
  const key = realLockPath(lockPath);
  if (held.has(key)) throw conflict(`${what} ${lockPath} is already open in this process`);
  if (!useAbstractSockets) return acquireByPid(lockPath, key, what);

  const server = net.createServer();
  const listened = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ path: abstractName(key), exclusive: true }, () => resolve(null));
  });
  if (listened) {
    server.close();
    if (listened.code === "EADDRINUSE") throw ownedBy(lockPath, what);
    throw listened;
  }
  // The socket only marks ownership: it must not keep the process alive, and nobody connects.
  server.unref();
  server.on("connection", (socket) => socket.destroy());
  fs.writeFileSync(lockPath, `${process.pid}\n`);
  let released: Promise<void> | null = null;
  const lock: ProcessLock = {
    path: lockPath,
    release() {
      released ??= (async () => {
        held.delete(key);
        fs.rmSync(lockPath, { force: true });
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return released;
    },
  };
  held.set(key, lock);
  return lock;
}

/** Whether some live process (this one included) holds the lock at `lockPath`. Synchronous. */
export function isProcessLockHeld(lockPath: string): boolean {
  const key = realLockPath(lockPath);
  if (held.has(key)) return true;
  if (!useAbstractSockets) return pidInFileIsAlive(lockPath);
  // /proc/net/unix lists every bound socket of this network namespace, an abstract name as "@"
  // and its bytes, NULs as "@" too (Node pads the name to the full address length).
  try {
    const name = ` @${abstractName(key).slice(1)}`;
    return fs
      .readFileSync("/proc/net/unix", "utf8")
      .split("\n")
      .some((line) => line.includes(name));
  } catch {
    return pidInFileIsAlive(lockPath);
  }
}

function abstractName(key: string): string {
  return `\0hourglass-lock-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

/** The same folder reached through a symlink must give the same lock. */
function realLockPath(lockPath: string): string {
  const dir = path.dirname(path.resolve(lockPath));
  let realDir = dir;
  try {
    realDir = fs.realpathSync(dir);
  } catch {
    // a folder that does not exist yet: its resolved path is the best name we have
  }
  return path.join(realDir, path.basename(lockPath));
}

function ownedBy(lockPath: string, what: string) {
  const owner = readPid(lockPath);
  const by = owner === null ? "another process" : `process ${owner}`;
  return conflict(`${what} is in use by ${by} (lock file ${lockPath})`);
}

function readPid(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function pidInFileIsAlive(lockPath: string): boolean {
  const pid = readPid(lockPath);
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The fallback where abstract sockets do not exist: an exclusive create, and a dead owner's file taken over. */
async function acquireByPid(lockPath: string, key: string, what: string): Promise<ProcessLock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: "wx" });
      const lock: ProcessLock = {
        path: lockPath,
        async release() {
          if (held.get(key) !== lock) return;
          held.delete(key);
          fs.rmSync(lockPath, { force: true });
        },
      };
      held.set(key, lock);
      return lock;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (pidInFileIsAlive(lockPath)) throw ownedBy(lockPath, what);
    fs.rmSync(lockPath, { force: true });
  }
  throw conflict(`could not take the lock ${lockPath}`);
}
