// The executor's state per NosanaNode (decision.ts's ExecutorState), kept in memory: the run in
// progress, its deadline (which moves when the job's timeout grows) and how it ended. A run goes
// on in the background between reconciles; when it settles, the NosanaNode is reconciled at once.
// After a restart every slot is idle: a run still held on chain is started again, and its runner
// picks up the Pods the previous process left running (objects of an earlier run of the same job
// are removed first, act.ts).
import type { ExecutorState, StopWhy } from './decision.ts';

/** How a run ended: every executor state but idle and running. */
export type SettledRun = Exclude<ExecutorState, { state: 'idle' } | { state: 'running' }>;

/** The run's side of the slot: its stop signal and its deadline, read at every decision of the executor. */
export interface RunControl {
  signal: AbortSignal;
  /** Aborted when the process hands its runs over: the executor lets go, touching nothing. */
  detach: AbortSignal;
  deadline: () => number;
}

export interface RunLaunch {
  jobAddress: string;
  runAddress: string;
  deadlineMs: number;
  /** Runs the job to its end; a throw settles the run as start-failed with the error's message. */
  execute: (control: RunControl) => Promise<SettledRun>;
}

interface Slot {
  state: ExecutorState;
  abort?: AbortController;
  detach?: AbortController;
  done?: Promise<void>;
}

export class RunSlots {
  /** By NosanaNode uid. */
  readonly #slots = new Map<string, Slot>();
  readonly #onSettled: (owner: string) => void;
  readonly #now: () => number;
  /** Set by detachAll: the process is handing its runs over, and starts none. */
  #closed = false;

  /** `onSettled` is called with the owner's uid when its run settles (enqueue the NosanaNode). */
  constructor(onSettled: (owner: string) => void, now: () => number = Date.now) {
    this.#onSettled = onSettled;
    this.#now = now;
  }

  state(owner: string): ExecutorState {
    return this.#slots.get(owner)?.state ?? { state: 'idle' };
  }

  /** Starts the run in the background. A slot busy with a run refuses (the decision never asks for that). */
  start(owner: string, launch: RunLaunch): void {
    if (this.#closed) throw new Error(`the node agent is handing its runs over; run ${launch.runAddress} is left to the next leader`);
    const current = this.state(owner);
    if (current.state === 'running') throw new Error(`run ${current.runAddress} is still running; run ${launch.runAddress} cannot start`);
    const abort = new AbortController();
    const detach = new AbortController();
    const slot: Slot = {
      state: { state: 'running', jobAddress: launch.jobAddress, runAddress: launch.runAddress, deadlineMs: launch.deadlineMs },
      abort,
      detach,
    };
    this.#slots.set(owner, slot);
    const deadline = (): number => (slot.state.state === 'running' ? slot.state.deadlineMs : launch.deadlineMs);
    // Called inside an async function, so a throw before execute's first await settles the run too.
    slot.done = (async () => launch.execute({ signal: abort.signal, detach: detach.signal, deadline }))()
      .catch((error: unknown): SettledRun => ({
        state: 'start-failed',
        jobAddress: launch.jobAddress,
        runAddress: launch.runAddress,
        error: error instanceof Error ? error.message : String(error),
        atMs: this.#now(),
      }))
      .then((settled) => {
        // A slot released or replaced meanwhile keeps what it holds now.
        if (this.#slots.get(owner) !== slot) return;
        slot.state = settled;
        delete slot.abort;
        delete slot.detach;
        try {
          this.#onSettled(owner);
        } catch {
          // Only wakes the NosanaNode; its next poll finds the settled run all the same.
        }
      });
  }

  /** The job's timeout grew: the running executor reads the new deadline at its next decision. */
  moveDeadline(owner: string, runAddress: string, deadlineMs: number): void {
    const slot = this.#slots.get(owner);
    if (slot?.state.state !== 'running' || slot.state.runAddress !== runAddress) return;
    slot.state = { ...slot.state, deadlineMs };
  }

  /** Asks the run to stop: its ops stop, and it settles as ended with them stopped. */
  stop(owner: string, runAddress: string, why: StopWhy): void {
    const slot = this.#slots.get(owner);
    if (slot?.state.state !== 'running' || slot.state.runAddress !== runAddress) return;
    slot.state = { ...slot.state, stopping: why };
    slot.abort?.abort(new Error(`run ${runAddress}: ${why}`));
  }

  /** Forgets a settled run: the slot is idle again. A running one is kept (stop it first). */
  release(owner: string, runAddress: string): void {
    const slot = this.#slots.get(owner);
    if (slot === undefined || slot.state.state === 'idle' || slot.state.state === 'running') return;
    if (slot.state.runAddress === runAddress) this.#slots.delete(owner);
  }

  /**
   * Lets go of every run and waits until none of them acts any more (the process is ending): the
   * Pods keep running, and the next agent to lead takes the runs over where they are — a rolling
   * update loses no job's work. What the runs settle with is dropped; a run that already settled
   * is settled again by the successor from what the cluster and the run records kept. No run
   * starts afterwards. The runs are told at once; awaiting is for a process that may wait.
   */
  async detachAll(): Promise<void> {
    this.#closed = true;
    const slots = [...this.#slots.values()];
    this.#slots.clear();
    for (const slot of slots) slot.detach?.abort(new Error('the node agent hands its runs over'));
    await Promise.all(slots.flatMap((slot) => (slot.done === undefined ? [] : [slot.done])));
  }
}
