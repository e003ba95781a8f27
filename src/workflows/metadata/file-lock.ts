/**
 * An in-process lock per SQLite file.
 *
 * better-sqlite3 is synchronous: if a second connection in this process met SQLite's write lock
 * held by a first one, its busy_timeout would block the event loop, so the first could never
 * commit (a self-deadlock until the timeout). Connections of one process to one file therefore
 * queue here, asynchronously, before they ask SQLite for the write lock; between processes,
 * SQLite's own lock and busy_timeout do the work.
 */
const tails = new Map<string, Promise<void>>();

export async function withFileLock<T>(filePath: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(filePath) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  tails.set(filePath, tail);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (tails.get(filePath) === tail) tails.delete(filePath);
  }
}
