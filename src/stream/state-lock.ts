import { acquireProcessLock } from "../process-lock.js";

/**
 * Only one process may append to a state folder's streams: two writers would interleave frames.
 * The lock is released by the kernel when its process dies (see process-lock.ts), so a restart
 * right after kill -9 is never refused.
 */
export async function acquireStateLock(lockPath: string): Promise<() => Promise<void>> {
  const lock = await acquireProcessLock(lockPath, "the stream state");
  return () => lock.release();
}
