// kill -9 at random instants, shared by `npm test` (a small batch) and `npm run test:chaos`
// (NOSANA_CHAOS_CRASH_JOBS jobs, 200 by default there). The labelled kill points of the other crash
// scenarios stop a process at the steps we thought of; here the controller and the node agent,
// each a child process, are killed at instants drawn at random while a batch of NosanaJobs goes
// through post, claim, run and finish on several NosanaNodes, and each is started again at once,
// as a Deployment would. The localnet drops a share of transactions and lands the rest late, so a
// kill often falls between a send and its landing. Afterwards every NosanaJob has reached a
// terminal phase and the batch is checked as in the chain-faults scenario: each paid for exactly
// one on-chain job, no run finished twice, each node paid and counted once per job, no run
// record left, NOS conserved to the base unit. The draws come from a seed the test prints
// (NOSANA_CHAOS_SEED repeats a run's choices; the instants also depend on the machine's timing).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FaultDice } from '../../src/localnet/chain/faults.ts';
import { useNodeScene, type NodeScene } from '../harness/node-scene.ts';
import type { OperatorProcess } from '../harness/operator-process.ts';
import { applyBatch, batchRules, checkBatchOutcome, describeOutcomes, prepareBatch, waitBatchTerminal } from './loop-batch.ts';

const MARKET = 'random-crash';
const BATCH = 'rc';
/** A modest bad RPC day: enough that a kill often falls between a send and its landing. */
const RANDOM_CRASH_FAULTS = { dropRate: 0.1, landingDelaySlots: 2 } as const;
/** The gap between one replacement being ready and the next kill, drawn uniformly. */
const GAP_MS = { low: 300, high: 4_000 } as const;

export interface RandomCrashOptions {
  jobs: number;
  /** NosanaNodes serving the market, one GPU each. */
  nodes: number;
}

type Role = 'controller' | 'agent';
/** Each round kills one of these; they take turns so both die, and sometimes together. */
const ROUNDS: readonly (readonly Role[])[] = [['controller'], ['agent'], ['controller', 'agent']];

/** NOSANA_CHAOS_SEED, else a fresh one (printed, so a failing run's draws can be repeated). */
function chaosSeed(): number {
  const text = process.env['NOSANA_CHAOS_SEED'];
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`NOSANA_CHAOS_SEED must be a non-negative integer, got "${text}"`);
  return seed;
}

/** Kills the controller and the node agent at random instants, starting a fresh one of each at once. */
class RandomKiller {
  readonly kills: { at: number; roles: readonly Role[] }[] = [];
  readonly #scene: NodeScene;
  readonly #dice: FaultDice;
  readonly #started = Date.now();
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Aborted, with the reason, when killing or restarting fails: what waits alongside stops too. */
  readonly #failed = new AbortController();

  constructor(scene: NodeScene, seed: number) {
    this.#scene = scene;
    this.#dice = new FaultDice(seed);
  }

  start(): void {
    this.#loop = this.#run().catch((error: unknown) => {
      this.#failed.abort(error);
      throw error;
    });
    // handled here so a failure with no one awaiting yet is not an unhandled rejection; stop() rethrows it
    this.#loop.catch(() => undefined);
  }

  /** Aborted when killing or restarting failed (a process that died by itself, a replacement never ready). */
  get failed(): AbortSignal {
    return this.#failed.signal;
  }

  /** `work`, unless killing or restarting fails first. */
  async alongside<T>(work: Promise<T>): Promise<T> {
    const failure = new Promise<never>((_, reject) => {
      if (this.failed.aborted) reject(this.failed.reason as Error);
      this.failed.addEventListener('abort', () => reject(this.failed.reason as Error), { once: true });
    });
    return Promise.race([work, failure]);
  }

  /** Stops killing; resolves once the last replacements are ready. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
  }

  count(role: Role): number {
    return this.kills.filter((kill) => kill.roles.includes(role)).length;
  }

  describe(): string {
    return this.kills.map((kill) => `${(kill.at / 1000).toFixed(1)} s ${kill.roles.join('+')}`).join(', ');
  }

  async #run(): Promise<void> {
    for (let round = 0; !this.#stopping; round += 1) {
      await this.#sleep(this.#dice.between(GAP_MS.low, GAP_MS.high));
      if (this.#stopping) return;
      const roles = ROUNDS[round % ROUNDS.length]!;
      this.kills.push({ at: Date.now() - this.#started, roles });
      const victims: OperatorProcess[] = roles.map((role) => (role === 'controller' ? this.#scene.jobs.controller : this.#scene.agent));
      // only this loop kills them: one that already exited died by itself, and that is a failure
      for (const victim of victims) victim.assertRunning();
      await Promise.all(victims.map((victim) => victim.sigkill()));
      const replacements = await Promise.all(
        roles.map((role) =>
          role === 'controller'
            ? this.#scene.jobs.startController({ name: `controller-${round + 1}` })
            : this.#scene.startAgent({ name: `agent-${round + 1}` }),
        ),
      );
      await Promise.all(replacements.map((replacement) => replacement.waitReady(120_000)));
    }
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Registers the test. Call at the top of a test file. */
export function randomCrashScenario(options: RandomCrashOptions): void {
  const { jobs, nodes } = options;
  const nodeNames = Array.from({ length: nodes }, (_, index) => `rc-node-${index}`);
  describe(`kill -9 at random instants: ${jobs} NosanaJobs on ${nodes} NosanaNodes while the controller and the node agent are killed and restarted`, () => {
    const scene = useNodeScene({ prefix: 'nn-random', rules: batchRules(BATCH, jobs), startController: false, startAgent: false });

    test('every job reaches a terminal phase, posted once, finished once, paid once; NOS conserved', async (t) => {
      const current = scene();
      const { ns } = current.jobs;
      const seed = chaosSeed();
      t.diagnostic(`seed ${seed} (NOSANA_CHAOS_SEED=${seed} repeats the draws)`);
      await (await current.jobs.startController({ name: 'controller-0' })).waitReady();
      await (await current.startAgent({ name: 'agent-0' })).waitReady();
      const killer = new RandomKiller(current, seed);
      try {
        const { marketAddress, batch, before } = await prepareBatch(current, { market: MARKET, nodeNames, prefix: BATCH, count: jobs });

        // a correctness bound, not a speed goal: a job stuck for good never gets there
        const deadlineMs = 300_000 + jobs * 10_000;
        const started = Date.now();
        await current.jobs.faults.during({ chain: RANDOM_CRASH_FAULTS }, async () => {
          killer.start();
          try {
            await killer.alongside(applyBatch(ns, batch, MARKET));
            return await killer.alongside(waitBatchTerminal(ns, batch, deadlineMs, killer.failed));
          } finally {
            await killer.stop();
          }
        });
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        t.diagnostic(`${killer.kills.length} kills in ${seconds} s: ${killer.describe()}`);
        assert.ok(
          killer.count('controller') > 0 && killer.count('agent') > 0,
          'both the controller and the agent were killed at least once',
        );
        current.jobs.controller.assertRunning();
        current.agent.assertRunning();

        for (const name of nodeNames) {
          await current.waitForNode(name, 'to have no job in hand', (node) => node.status?.currentJob === undefined, 120_000);
        }
        const outcomes = await checkBatchOutcome(current, nodeNames, batch, marketAddress, before);
        // nothing here may make a job fail: a kill only delays it
        assert.deepEqual([...outcomes.keys()], ['Succeeded/Succeeded'], `every job succeeded: ${describeOutcomes(outcomes)}`);
        t.diagnostic(`${jobs} jobs terminal: ${describeOutcomes(outcomes)}`);
      } catch (error) {
        await killer.stop().catch(() => undefined);
        t.diagnostic(current.jobs.controller.diagnostics(40));
        t.diagnostic(current.agent.diagnostics(40));
        throw error;
      }
    });
  });
}
