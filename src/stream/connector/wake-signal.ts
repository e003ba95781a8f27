/**
 * Wakes waiters when something changed (records arrived, a batch left, a stop was asked), so the
 * connector's loops sleep on events instead of polling. A notify before a wait is not lost: the
 * next wait returns at once.
 */
export class WakeSignal {
  private waiters: (() => void)[] = [];
  private pending = false;

  notify(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) {
      this.pending = true;
      return;
    }
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify, or after `timeoutMs` (none: only on notify). */
  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(wake);
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () => {
            this.waiters = this.waiters.filter((w) => w !== wake);
            resolve();
          },
          Math.max(0, timeoutMs),
        );
      }
    });
  }
}

/** Opens once and stays open: every wait after `open()` returns at once (the connector's stop). */
export class Latch {
  private readonly signal = new WakeSignal();
  private opened = false;

  get isOpen(): boolean {
    return this.opened;
  }

  open(): void {
    this.opened = true;
    this.signal.notify();
  }

  /** Resolves when opened, or after `timeoutMs`; a timed-out wait leaves nothing behind. */
  async wait(timeoutMs: number): Promise<void> {
    if (this.opened) return;
    await this.signal.wait(timeoutMs);
    // The notify of open() may have been taken by another waiter's wait: it is open either way.
  }
}
