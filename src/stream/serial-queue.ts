/**
 * Runs async jobs one at a time, in the order they were queued. The stream service runs every
 * change to files (batch writes, retention sweeps, creating and deleting streams) through one queue,
 * so they never interleave; reads do not queue.
 */
export class SerialQueue {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.last.then(job);
    this.last = result.catch(() => undefined);
    return result;
  }
}
