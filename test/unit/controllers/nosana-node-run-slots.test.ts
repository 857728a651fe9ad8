// The executor's slot per NosanaNode, with runs the test settles by hand: what state each step
// shows, who is told when a run settles, how stopping and a moved deadline reach the run, and that
// nothing a released or abandoned run settles with comes back. Also what a run settles with when
// its job cannot be planned at all (unplannedFlow).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunSlots } from '../../../src/controllers/nosana-node/run-slots.ts';
import type { RunControl, RunLaunch, SettledRun } from '../../../src/controllers/nosana-node/run-slots.ts';
import type { FlowState } from '../../../src/executor/flow-state.ts';
import { planJob, isPlan, unplannedFlow } from '../../../src/executor/plan.ts';

const OWNER = 'uid-node-a';
const OTHER_OWNER = 'uid-node-b';
const JOB = 'job-1';
const RUN = 'run-1';
const NEXT_RUN = 'run-2';
const DEADLINE_MS = 1_000_000;
const NOW_MS = 42_000;

const FLOW: FlowState = { status: 'success', startTime: 1, endTime: 2, secrets: {}, opStates: [] };

/** A run the test holds: its control as the slot gave it, and the hand that settles it. */
interface HeldRun {
  launch: RunLaunch;
  control: () => RunControl;
  settle: (settled: SettledRun) => void;
  fail: (error: unknown) => void;
}

function heldRun(runAddress = RUN): HeldRun {
  const { promise, resolve, reject } = Promise.withResolvers<SettledRun>();
  let given: RunControl | undefined;
  return {
    launch: {
      jobAddress: JOB,
      runAddress,
      deadlineMs: DEADLINE_MS,
      execute: (control) => {
        given = control;
        return promise;
      },
    },
    control: () => {
      assert.ok(given !== undefined, 'execute was called');
      return given;
    },
    settle: resolve,
    fail: reject,
  };
}

function ended(runAddress = RUN): SettledRun {
  return { state: 'ended', jobAddress: JOB, runAddress, flow: FLOW };
}

/** Lets the settle's promise chain run. */
async function settled(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

function slots(): { slots: RunSlots; told: string[] } {
  const told: string[] = [];
  return {
    slots: new RunSlots(
      (owner) => told.push(owner),
      () => NOW_MS,
    ),
    told,
  };
}

describe('RunSlots', () => {
  test('an owner never started is idle', () => {
    assert.deepEqual(slots().slots.state(OWNER), { state: 'idle' });
  });

  test('start: the slot shows the run running with its deadline, and the run gets a live signal', () => {
    const { slots: runSlots, told } = slots();
    const run = heldRun();
    runSlots.start(OWNER, run.launch);
    assert.deepEqual(runSlots.state(OWNER), { state: 'running', jobAddress: JOB, runAddress: RUN, deadlineMs: DEADLINE_MS });
    assert.equal(run.control().signal.aborted, false);
    assert.equal(run.control().deadline(), DEADLINE_MS);
    assert.deepEqual(told, []);
    assert.deepEqual(runSlots.state(OTHER_OWNER), { state: 'idle' }, 'other owners are untouched');
  });

  test('settle: the slot shows how the run ended, and its owner is told once', async () => {
    const { slots: runSlots, told } = slots();
    const run = heldRun();
    runSlots.start(OWNER, run.launch);
    run.settle(ended());
    await settled();
    assert.deepEqual(runSlots.state(OWNER), ended());
    assert.deepEqual(told, [OWNER]);
  });

  test('a run that throws settles as start-failed with the error message, at the slot clock', async () => {
    const { slots: runSlots, told } = slots();
    const run = heldRun();
    runSlots.start(OWNER, run.launch);
    run.fail(new Error('gateway 502'));
    await settled();
    assert.deepEqual(runSlots.state(OWNER), {
      state: 'start-failed',
      jobAddress: JOB,
      runAddress: RUN,
      error: 'gateway 502',
      atMs: NOW_MS,
    });
    assert.deepEqual(told, [OWNER]);
  });

  test('a run that throws before it returns a promise settles as start-failed too, never stuck running', async () => {
    const { slots: runSlots, told } = slots();
    runSlots.start(OWNER, {
      jobAddress: JOB,
      runAddress: RUN,
      deadlineMs: DEADLINE_MS,
      execute: () => {
        throw new Error('no client for the network');
      },
    });
    await settled();
    assert.deepEqual(runSlots.state(OWNER), {
      state: 'start-failed',
      jobAddress: JOB,
      runAddress: RUN,
      error: 'no client for the network',
      atMs: NOW_MS,
    });
    assert.deepEqual(told, [OWNER]);
  });

  test('stop: the slot shows why it is stopping and the run is aborted; another run or owner is not', () => {
    const { slots: runSlots } = slots();
    const run = heldRun();
    const other = heldRun();
    runSlots.start(OWNER, run.launch);
    runSlots.start(OTHER_OWNER, other.launch);
    runSlots.stop(OWNER, NEXT_RUN, 'run-lost');
    assert.equal(run.control().signal.aborted, false, 'a stop for another run is ignored');
    runSlots.stop(OWNER, RUN, 'job-ended');
    assert.deepEqual(runSlots.state(OWNER), {
      state: 'running',
      jobAddress: JOB,
      runAddress: RUN,
      deadlineMs: DEADLINE_MS,
      stopping: 'job-ended',
    });
    assert.equal(run.control().signal.aborted, true);
    assert.match(String((run.control().signal.reason as Error).message), /run run-1: job-ended/);
    assert.equal(other.control().signal.aborted, false, "another owner's run goes on");
  });

  test('moveDeadline: the run reads the new deadline; a move for another run is ignored', () => {
    const { slots: runSlots } = slots();
    const run = heldRun();
    runSlots.start(OWNER, run.launch);
    runSlots.moveDeadline(OWNER, NEXT_RUN, DEADLINE_MS + 1);
    assert.equal(run.control().deadline(), DEADLINE_MS);
    runSlots.moveDeadline(OWNER, RUN, DEADLINE_MS + 600_000);
    assert.equal(run.control().deadline(), DEADLINE_MS + 600_000);
    assert.deepEqual(runSlots.state(OWNER), { state: 'running', jobAddress: JOB, runAddress: RUN, deadlineMs: DEADLINE_MS + 600_000 });
    runSlots.stop(OWNER, RUN, 'run-lost');
    assert.equal(run.control().deadline(), DEADLINE_MS + 600_000, 'stopping keeps the moved deadline');
  });

  test('release: only a settled run of that address is forgotten', async () => {
    const { slots: runSlots } = slots();
    const run = heldRun();
    runSlots.start(OWNER, run.launch);
    runSlots.release(OWNER, RUN);
    assert.equal(runSlots.state(OWNER).state, 'running', 'a running run is kept');
    run.settle(ended());
    await settled();
    runSlots.release(OWNER, NEXT_RUN);
    assert.deepEqual(runSlots.state(OWNER), ended(), "another run's release is ignored");
    runSlots.release(OTHER_OWNER, RUN);
    assert.deepEqual(runSlots.state(OWNER), ended(), "another owner's release is ignored");
    runSlots.release(OWNER, RUN);
    assert.deepEqual(runSlots.state(OWNER), { state: 'idle' });
  });

  test('a released slot starts again: the next run runs', async () => {
    const { slots: runSlots } = slots();
    const first = heldRun();
    runSlots.start(OWNER, first.launch);
    first.settle(ended());
    await settled();
    runSlots.release(OWNER, RUN);
    runSlots.start(OWNER, heldRun(NEXT_RUN).launch);
    assert.equal(runSlots.state(OWNER).state, 'running');
  });

  test('start while a run is running throws, naming both runs, and the running one is kept', () => {
    const { slots: runSlots } = slots();
    runSlots.start(OWNER, heldRun().launch);
    assert.throws(() => runSlots.start(OWNER, heldRun(NEXT_RUN).launch), /run run-1 is still running; run run-2 cannot start/);
    assert.equal((runSlots.state(OWNER) as { runAddress: string }).runAddress, RUN);
  });

  test('start over a settled run not yet released replaces it', async () => {
    const { slots: runSlots } = slots();
    const run = heldRun();
    runSlots.start(OWNER, run.launch);
    run.settle({ state: 'start-failed', jobAddress: JOB, runAddress: RUN, error: 'x', atMs: 1 });
    await settled();
    runSlots.start(OWNER, heldRun().launch);
    assert.equal(runSlots.state(OWNER).state, 'running');
  });

  test('detachAll: every run is told to let go (not to stop) and waited for; what they settle with is dropped, no owner told', async () => {
    const { slots: runSlots, told } = slots();
    const runs = [heldRun(), heldRun()];
    runSlots.start(OWNER, runs[0]!.launch);
    runSlots.start(OTHER_OWNER, runs[1]!.launch);
    let stopped = false;
    const stopping = runSlots.detachAll().then(() => {
      stopped = true;
    });
    for (const run of runs) {
      assert.equal(run.control().detach.aborted, true, 'the run lets go');
      assert.equal(run.control().signal.aborted, false, 'the run is not stopped: its Pods go on for the successor');
    }
    await settled();
    assert.equal(stopped, false, 'waits for the runs to clean up');
    runs[0]!.settle(ended());
    await settled();
    assert.equal(stopped, false, 'waits for every run');
    runs[1]!.fail(new Error('aborted'));
    await stopping;
    assert.deepEqual(told, []);
    assert.deepEqual([runSlots.state(OWNER), runSlots.state(OTHER_OWNER)], [{ state: 'idle' }, { state: 'idle' }]);
  });

  test('after detachAll no run starts, and a run let go that settles later tells no one', async () => {
    const { slots: runSlots, told } = slots();
    const old = heldRun();
    runSlots.start(OWNER, old.launch);
    const stopping = runSlots.detachAll();
    assert.throws(() => runSlots.start(OWNER, heldRun(NEXT_RUN).launch), /handing its runs over; run run-2 is left to the next leader/);
    assert.throws(() => runSlots.start(OTHER_OWNER, heldRun(NEXT_RUN).launch), /handing its runs over/);
    old.settle(ended());
    await stopping;
    assert.deepEqual(runSlots.state(OWNER), { state: 'idle' });
    assert.deepEqual(told, [], "the old run's end is not announced");
  });

  test('detachAll with nothing running returns at once', async () => {
    await slots().slots.detachAll();
  });
});

describe('unplannedFlow: what a run whose job cannot be planned settles with', () => {
  const NOW = 1_750_000_000_000;

  test('an invalid definition: validation-error listing every problem as path: message, ended at once', () => {
    const flow = unplannedFlow(
      {
        invalid: [
          { path: 'ops[0].args.image', message: 'is required' },
          { path: 'version', message: 'must be "0.1"' },
        ],
      },
      NOW,
    );
    assert.deepEqual(flow, {
      status: 'validation-error',
      startTime: NOW,
      endTime: NOW,
      errors: ['ops[0].args.image: is required', 'version: must be "0.1"'],
      secrets: {},
      opStates: [],
    });
  });

  test("a definition breaking the node's plan rules: init error with the rules' message", () => {
    const flow = unplannedFlow({ initError: 'op "a" depends on itself' }, NOW);
    assert.deepEqual(flow, {
      status: 'init error',
      startTime: NOW,
      endTime: NOW,
      errors: ['op "a" depends on itself'],
      secrets: {},
      opStates: [],
    });
  });

  test('from planJob: a definition whose op depends on itself plans to an init error', () => {
    const definition = {
      version: '0.1',
      type: 'container',
      ops: [{ type: 'container/run', id: 'a', args: { image: 'ubuntu' }, execution: { depends_on: ['a'] } }],
    };
    const outcome = planJob(definition, 'job-x');
    assert.ok(!isPlan(outcome), 'not planned');
    const flow = unplannedFlow(outcome, NOW);
    assert.equal(flow.status, 'init error');
    assert.match(String(flow.errors?.[0]), /op "a" depends on itself/);
  });

  test('from planJob: something that is not a definition is a validation error with at least one problem', () => {
    const outcome = planJob({ ops: 'none' }, 'job-x');
    assert.ok(!isPlan(outcome), 'not planned');
    const flow = unplannedFlow(outcome, NOW);
    assert.equal(flow.status, 'validation-error');
    assert.ok((flow.errors ?? []).length > 0);
    assert.ok(
      (flow.errors ?? []).every((error) => typeof error === 'string' && /^\S.*: /.test(error)),
      JSON.stringify(flow.errors),
    );
  });
});
