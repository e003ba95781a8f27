/**
 * Runs work one at a time per key, in call order; different keys run side by side. The export
 * service commits a data file and its manifest under one key's turn, so two exports to the same
 * key cannot pair one's file with the other's manifest.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    // Forget the key once its last piece of work is done, so the map does not grow with every key ever used.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
