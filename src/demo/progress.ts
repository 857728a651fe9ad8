// The demo's voice: every line it prints carries the seconds since the demo started, so whoever
// watches sees both what happened and how long each step took. Lines are written whole, never
// rewritten in place: the output reads the same in a terminal, a CI log or a test's capture.
import type { TextOutput } from '../cli/io.ts';

export class Progress {
  readonly #out: TextOutput;
  readonly #startedAt: number;
  readonly #now: () => number;

  constructor(out: TextOutput, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
    this.#startedAt = now();
  }

  /** Seconds since the demo started, as the lines show them. */
  elapsed(): string {
    return `${((this.#now() - this.#startedAt) / 1000).toFixed(1)}s`;
  }

  /** One timestamped line; continuation lines of `text` are indented under it. */
  step(text: string): void {
    const stamp = `[${this.elapsed().padStart(6)}] `;
    const [first = '', ...rest] = text.split('\n');
    this.#out.write(`${stamp}${first}\n${rest.map((line) => `${' '.repeat(stamp.length)}${line}\n`).join('')}`);
  }

  /** Text without a timestamp: headings, the summary, instructions. */
  plain(text: string): void {
    this.#out.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
