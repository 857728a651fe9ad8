// What the demo started, to stop in reverse order: the node agent and the controller before the
// network and the cluster they talk to, the cluster last. Every stop runs even when one before it
// fails, so a failure while stopping never leaves an API server or an etcd behind.

export interface TeardownFailure {
  what: string;
  error: unknown;
}

export class Teardown {
  readonly #steps: { what: string; stop: () => Promise<void> }[] = [];

  /** Registers how to stop something just started; the last registered stops first. */
  add(what: string, stop: () => Promise<void>): void {
    this.#steps.push({ what, stop });
  }

  /** Stops everything registered, newest first; returns what failed to stop. Idempotent. */
  async run(): Promise<TeardownFailure[]> {
    const failures: TeardownFailure[] = [];
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step.stop();
      } catch (error) {
        failures.push({ what: step.what, error });
      }
    }
    return failures;
  }
}
