/**
 * When the double applies what it observed. Real timers in the integration tier; a manual clock
 * in unit tests, so "not applied before the lag, applied after it" is asserted without sleeping.
 */
export interface DoubleTimers {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

export const REAL_TIMERS: DoubleTimers = {
  now: () => Date.now(),
  schedule: (ms, fn) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** Virtual time: nothing fires until `advance` moves the clock past it. */
export class ManualTimers implements DoubleTimers {
  private current = 0;
  private seq = 0;
  private readonly pending = new Map<number, { due: number; fn: () => void }>();

  now(): number {
    return this.current;
  }

  schedule(ms: number, fn: () => void): () => void {
    const id = this.seq++;
    this.pending.set(id, { due: this.current + Math.max(0, ms), fn });
    return () => this.pending.delete(id);
  }

  /** Moves the clock forward by `ms`, firing every due callback in due order (ties in scheduling order). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = [...this.pending.entries()].filter(([, p]) => p.due <= target).sort((a, b) => a[1].due - b[1].due || a[0] - b[0])[0];
      if (next === undefined) {
        break;
      }
      this.pending.delete(next[0]);
      this.current = next[1].due;
      next[1].fn();
    }
    this.current = target;
  }

  /** Callbacks still waiting. */
  get waiting(): number {
    return this.pending.size;
  }
}
