// A clock that only moves when a test says so, for asserting delays without waiting for them.
import type { Clock } from '../../../src/runtime/work-queue.ts';

interface Timer {
  at: number;
  order: number;
  callback: () => void;
}

export class FakeClock implements Clock {
  private time = 0;
  private scheduled = 0;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, order: this.scheduled++, callback };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Moves time forward, running due timers in order (each at its own instant). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) break;
      this.timers.delete(due);
      this.time = due.at;
      due.callback();
    }
    this.time = target;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

/** Lets already-settled promises and their continuations run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
