/** Records per second over a sliding window (10 s by default), from counts added as they happen. */
export class MovingRate {
  private readonly samples: { atMs: number; count: number }[] = [];
  private readonly startedMs: number;

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedMs = now();
  }

  add(count: number): void {
    this.samples.push({ atMs: this.now(), count });
    this.trim();
  }

  perSecond(): number {
    this.trim();
    const now = this.now();
    // A young connector divides by its age, not by the whole window.
    const spanMs = Math.min(this.windowMs, now - this.startedMs);
    if (spanMs <= 0) return 0;
    let total = 0;
    for (const s of this.samples) total += s.count;
    return (total * 1000) / spanMs;
  }

  private trim(): void {
    const oldest = this.now() - this.windowMs;
    while (this.samples.length > 0 && this.samples[0]!.atMs < oldest) this.samples.shift();
  }
}
