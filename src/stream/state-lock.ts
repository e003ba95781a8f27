import { open, readFile, rm } from "node:fs/promises";
import { conflict } from "../errors.js";

/** Lock files this process holds, so that a stale lock left by a dead process with our pid is told apart. */
const heldLocks = new Set<string>();

/**
 * Only one process may append to a state folder's streams: two writers would interleave frames. The
 * lock is a file holding the owner's pid; a lock whose process is gone (killed, crashed) is taken over.
 */
export async function acquireStateLock(lockPath: string): Promise<() => Promise<void>> {
  if (heldLocks.has(lockPath)) throw conflict(`the stream state ${lockPath} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      heldLocks.add(lockPath);
      return async () => {
        heldLocks.delete(lockPath);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner !== process.pid && processIsAlive(owner)) {
      throw conflict(`the stream state is in use by process ${owner} (lock file ${lockPath})`);
    }
    await rm(lockPath, { force: true });
  }
  throw conflict(`could not take the lock ${lockPath}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
