// The transitions of a NosanaNode as a table: what one reconcile read → the phase and reason shown,
// the conditions, the Events and the one action. Each row's reason is its specification; together
// they cover every row of decide.ts's table, and the sequences below kill the agent between every
// two steps of a run's ending and check that it is sent and counted exactly once, and that every
// release the decision asks for is one the run record store grants.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { NosanaNodeStatus } from '../../../src/api/crds/nosana-node.ts';
import { OPEN_MARKET_ACCESS_KEY } from '../../../src/chain/addresses.ts';
import type { JobStatus, JobView, MarketView, RunView } from '../../../src/chain/jobs-client.ts';
import type { CapacityVerdict } from '../../../src/controllers/nosana-node/capacity.ts';
import { decide } from '../../../src/controllers/nosana-node/decide.ts';
import type {
  ChainSnapshot,
  EndingKind,
  EndingOutcome,
  ExecutorState,
  NodeAction,
  NodeDecision,
  NodeProblem,
  NodeSettings,
  NodeWorld,
  RunRecord,
  SignedEnding,
} from '../../../src/controllers/nosana-node/decision.ts';
import { jobOf } from '../../../src/controllers/nosana-node/decision.ts';
import { releaseRefusal } from '../../../src/controllers/nosana-node/run-record-store.ts';
import type { FlowState, FlowStatus } from '../../../src/executor/flow-state.ts';
import { bytes32ToCid } from '../../../src/ipfs/cid.ts';
import { findCondition } from '../../../src/runtime/conditions.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_S = BigInt(NOW.getTime() / 1000);
const NODE = Keypair.generate().publicKey;
const MARKET = Keypair.generate().publicKey;
const JOB = Keypair.generate().publicKey;
const RUN = Keypair.generate().publicKey;
const OTHER_RUN = Keypair.generate().publicKey;
const OTHER_NODE = Keypair.generate().publicKey;
const COLLECTION = Keypair.generate().publicKey;
const node = NODE.toBase58();
const job = JOB.toBase58();
const run = RUN.toBase58();
const market = MARKET.toBase58();
const RESULT_BYTES = new Uint8Array(32).fill(7);
const RESULT_CID = bytes32ToCid(RESULT_BYTES);
const OTHER_RESULT = new Uint8Array(32).fill(9);
const TIMEOUT = 600n;
const RUN_START = NOW_S - 100n;
const DEADLINE_MS = Number(RUN_START + TIMEOUT) * 1000;
const PRICE = 10n;

const SETTINGS: NodeSettings = {
  now: NOW,
  lowBalanceLamports: 10_000_000n,
  pollIntervalMs: 10_000,
  recheckMs: 60_000,
  joinSettleMs: 30_000,
  startRetryMs: 15_000,
  maxEndingFailures: 3,
};

// ---------------------------------------------------------------------------------------------
// The chain, as the tests shape it

function marketView(change: { queue?: string[]; jobType?: number; minimum?: bigint; accessKey?: 'open' | 'collection' } = {}): MarketView {
  return {
    address: MARKET,
    account: {
      authority: OTHER_NODE,
      jobExpiration: 86_400n,
      jobPrice: PRICE,
      jobTimeout: TIMEOUT,
      jobType: change.jobType ?? 4,
      vault: MARKET,
      vaultBump: 255,
      nodeAccessKey: change.accessKey === 'collection' ? COLLECTION : OPEN_MARKET_ACCESS_KEY,
      nodeXnosMinimum: change.minimum ?? 0n,
      queueType: 1,
      queue: (change.queue ?? []).map((address) => (address === node ? NODE : Keypair.generate().publicKey)),
    },
  };
}

function runView(change: { time?: bigint; address?: typeof RUN } = {}): RunView {
  return { address: change.address ?? RUN, account: { job: JOB, node: NODE, payer: NODE, state: 0, time: change.time ?? RUN_START } };
}

function jobView(status: JobStatus, change: { timeout?: bigint; result?: Uint8Array; timeStart?: bigint; timeEnd?: bigint } = {}): JobView {
  const done = status === 'COMPLETED';
  return {
    address: JOB,
    status,
    account: {
      ipfsJob: new Uint8Array(32).fill(1),
      ipfsResult: change.result ?? new Uint8Array(32),
      market: MARKET,
      node: done ? NODE : OTHER_NODE,
      payer: OTHER_NODE,
      price: PRICE,
      project: OTHER_NODE,
      state: done ? 2 : status === 'STOPPED' ? 3 : 0,
      timeEnd: change.timeEnd ?? (done ? RUN_START + 250n : 0n),
      timeStart: change.timeStart ?? (done ? RUN_START : 0n),
      timeout: change.timeout ?? TIMEOUT,
    },
    ...(status === 'RUNNING' ? { run: runView() } : {}),
  };
}

/** A job finished with our result: 250 s at price 10 → 2500 base units earned. */
const FINISHED = jobView('COMPLETED', { result: RESULT_BYTES });
const EARNED = 2500n;
/** The poster ended it with `end` while it ran: done, no result. */
const ENDED = jobView('COMPLETED');
const RUNNING = jobView('RUNNING');

const stake = (xnos: bigint) => ({
  amount: 0n,
  authority: NODE,
  duration: 1_209_600n,
  timeUnstake: 0n,
  vault: MARKET,
  vaultBump: 255,
  xnos,
});

function chain(change: Partial<ChainSnapshot> = {}): ChainSnapshot {
  return {
    market: marketView(),
    balances: { lamports: 1_000_000_000n, nos: 0n },
    accounts: { nosAccount: true, stake: stake(0n) },
    accessKey: 'open',
    ...change,
  };
}

/** The chain while this node holds the run. */
const HOLDING = chain({ run: runView(), job: RUNNING });

// ---------------------------------------------------------------------------------------------
// The run, as the agent records it

function flow(status: FlowStatus): FlowState {
  return { status, startTime: NOW.getTime() - 90_000, endTime: NOW.getTime() - 1_000, secrets: {}, opStates: [] };
}

function signed(kind: EndingKind): SignedEnding {
  const common = {
    node,
    signature: `sig-${kind}`,
    lastValidBlockHeight: 1_000,
    preparedSlot: 900,
    genesisHash: 'localnet-genesis',
    transaction: `bytes-of-${kind}`,
    preparedAt: '2026-06-01T11:59:00Z',
  };
  switch (kind) {
    case 'finish':
      return { kind, job, run, resultCid: RESULT_CID, payout: node, ...common };
    case 'complete':
      return { kind, job, resultCid: RESULT_CID, ...common };
    case 'quit':
      return { kind, job, run, ...common };
  }
}

const landed: EndingOutcome = { outcome: 'landed', evidence: 'signature' };
const pending: EndingOutcome = { outcome: 'pending' };
const expired: EndingOutcome = { outcome: 'expired' };
const failedOnChain: EndingOutcome = { outcome: 'failed', error: undefined, detail: 'custom program error 0x1779' };
const unknown: EndingOutcome = { outcome: 'unknown', reason: 'the RPC keeps no transaction history' };

function record(change: { result?: FlowStatus | false; ending?: EndingKind; outcome?: EndingOutcome; failures?: number } = {}): RunRecord {
  const result = change.result === false ? undefined : { cid: RESULT_CID, flowStatus: change.result ?? 'success' };
  const reason = change.ending === 'quit' ? 'the cluster failed it' : 'the flow ended (success)';
  return {
    jobAddress: job,
    runAddress: run,
    ...(result === undefined ? {} : { result }),
    ...(change.ending === undefined
      ? {}
      : { ending: { signed: signed(change.ending), outcome: change.outcome ?? pending, reason, failures: change.failures ?? 0 } }),
  };
}

/** A record whose ending another key signed: a stranger's quit of this run, or one from before the key Secret changed. */
function foreignRecord(outcome: EndingOutcome): RunRecord {
  return {
    jobAddress: job,
    runAddress: run,
    ending: { signed: { ...signed('quit'), node: OTHER_NODE.toBase58() }, outcome, reason: 'node lost', failures: 0 },
  };
}

const running = (change: Partial<Extract<ExecutorState, { state: 'running' }>> = {}): ExecutorState => ({
  state: 'running',
  jobAddress: job,
  runAddress: run,
  deadlineMs: DEADLINE_MS,
  ...change,
});
const ended = (status: FlowStatus, runAddress = run): ExecutorState => ({
  state: 'ended',
  jobAddress: job,
  runAddress,
  flow: flow(status),
});

/** RUN_START as a Kubernetes timestamp: the run's start as the chain recorded it. */
const RUN_STARTED_AT = '2026-06-01T11:58:20Z';

/** What the status shows while this node runs the job. */
const BUSY: NosanaNodeStatus = {
  phase: 'Running',
  nodeAddress: node,
  currentJob: job,
  currentRun: run,
  startedAt: RUN_STARTED_AT,
  jobsCompleted: 4,
  jobsFailed: 1,
  jobsQuit: 2,
  earnings: '0.000005',
  earningsBaseUnits: '5',
};

// The capacity verdicts the tests use, one per cause.
const GPUS_IN_USE: CapacityVerdict = { fits: false, cause: 'GpusInUse', reason: 'largest free: 0 of nvidia.com/gpu on gpu-1; needs 1' };
const NO_SUITABLE_NODE: CapacityVerdict = {
  fits: false,
  cause: 'NoSuitableNode',
  reason: 'no node advertises nvidia.com/gpu (is its device plugin running?)',
};
const CAPACITY_UNKNOWN: CapacityVerdict = {
  fits: false,
  cause: 'CapacityUnknown',
  reason: 'DeviceClass gpu.example.com does not exist',
};

// ---------------------------------------------------------------------------------------------
// The table

interface WorldChange {
  status?: NosanaNodeStatus;
  paused?: boolean;
  deleting?: boolean;
  key?: NodeWorld['key'];
  chain?: ChainSnapshot | { readError: string } | 'unread';
  /** The capacity verdict; room on gpu-1 when absent. */
  capacity?: CapacityVerdict;
  record?: RunRecord;
  executor?: ExecutorState;
  lastJoinAt?: Date;
  /** Why the containment refuses the node's placement; allowed when absent. */
  placementRefusal?: string;
  /** The fingerprint of the node's placement now; PLACEMENT when absent. */
  placement?: string;
}

const PLACEMENT = 'placement-1';

function world(change: WorldChange = {}): NodeWorld {
  const read = change.chain === 'unread' ? undefined : (change.chain ?? chain());
  return {
    node: {
      spec: { market: 'gpu-market', paused: change.paused ?? false },
      status: change.status ?? {},
      generation: 3,
      deleting: change.deleting ?? false,
    },
    key: change.key ?? { address: node },
    ...(read === undefined ? {} : { chain: read }),
    capacity: change.capacity ?? { fits: true, node: 'gpu-1', freeAfter: 0 },
    ...(change.record === undefined ? {} : { record: change.record }),
    executor: change.executor ?? { state: 'idle' },
    ...(change.lastJoinAt === undefined ? {} : { lastJoinAt: change.lastJoinAt }),
    ...(change.placementRefusal === undefined ? {} : { placementRefusal: change.placementRefusal }),
    placement: change.placement ?? PLACEMENT,
  };
}

interface Want {
  phase: NosanaNodeStatus['phase'];
  ready?: string;
  action: NodeAction['kind'];
  /** Fields the action must carry. */
  with?: Record<string, unknown>;
  /** The Events' reasons, in order (none when absent). */
  events?: string[];
  conditions?: Partial<Record<NodeProblem, 'True' | 'False' | 'absent'>>;
  /** What conditions (Ready included) must say: their reason, and a pattern their message must match. */
  says?: Partial<Record<NodeProblem | 'Ready', { reason?: string; message?: RegExp }>>;
  /** Status fields as they must be (undefined: removed; a pattern: a string matching it). */
  status?: Partial<Record<keyof NosanaNodeStatus, unknown>>;
  requeue?: number | 'backoff' | 'none';
}

interface Row {
  reason: string;
  world: WorldChange;
  want: Want;
}

const queued = chain({ market: marketView({ queue: ['x', node, 'y'] }) });
/** A refusal as the containment words it (containment.ts). */
const REFUSED =
  'namespace gpu-jobs (spec.pods.namespace) is not marked for jobs: an administrator labels it nosana.io/jobs=allowed to let job Pods run there';
/** The status once a refusal was reported. */
const refusedStatus: NosanaNodeStatus = {
  phase: 'Error',
  conditions: [
    { type: 'PlacementRefused', status: 'True', reason: 'PlacementRefused', message: REFUSED, lastTransitionTime: '2026-06-01T11:00:00Z' },
  ],
};
/** The status once the ending was counted: the run no longer named. */
const counted: NosanaNodeStatus = {
  phase: 'Idle',
  nodeAddress: node,
  jobsCompleted: 4,
  jobsFailed: 1,
  jobsQuit: 2,
  earnings: '0.000005',
  earningsBaseUnits: '5',
};

const rows: Row[] = [
  // --- the key and the chain ---------------------------------------------------------------
  {
    reason: 'a missing key Secret: Error / KeyUnavailable with a condition naming the Secret and key, kept as lastError; nothing joins',
    world: { key: { problem: 'Secret default/node-key key "keypair": the Secret does not exist' } },
    want: {
      phase: 'Error',
      ready: 'KeyUnavailable',
      action: 'none',
      events: ['KeyUnavailable'],
      conditions: { KeyUnavailable: 'True' },
      says: { Ready: { message: /^Secret default\/node-key key "keypair": the Secret does not exist; the node cannot sign/ } },
      status: { lastError: 'Secret default/node-key key "keypair": the Secret does not exist' },
      requeue: 'backoff',
    },
  },
  {
    reason: 'a malformed key while an ending is signed and pending: its bytes are sent again, they need no key',
    world: {
      status: BUSY,
      key: { problem: 'Secret default/node-key key "keypair": not a keypair' },
      record: record({ ending: 'finish' }),
    },
    want: {
      phase: 'Running',
      action: 'broadcast',
      with: { signed: signed('finish') },
      events: ['KeyUnavailable'],
      conditions: { KeyUnavailable: 'True' },
    },
  },
  {
    reason: 'deleted with its key Secret gone and no run named: the object may go (nothing can be signed, stop included)',
    world: { deleting: true, key: { problem: 'Secret default/node-key key "keypair": the Secret does not exist' } },
    want: { phase: undefined, action: 'removeFinalizer', events: ['KeyUnavailable', 'KeyUnavailable'] },
  },
  {
    reason: 'deleted with its key Secret gone while a run is named: kept, its ending may still be owed',
    world: { deleting: true, status: BUSY, key: { problem: 'Secret default/node-key key "keypair": the Secret does not exist' } },
    want: { phase: 'Error', ready: 'KeyUnavailable', action: 'none', events: ['KeyUnavailable'] },
  },
  {
    reason: 'a malformed key while the outcome of an ending is unknown: nothing is sent; Error / KeyUnavailable, the run still named',
    world: {
      status: BUSY,
      key: { problem: 'Secret default/node-key key "keypair": not a keypair' },
      record: record({ ending: 'finish', outcome: unknown }),
    },
    want: {
      phase: 'Error',
      ready: 'KeyUnavailable',
      action: 'none',
      events: ['KeyUnavailable'],
      status: { currentRun: run, startedAt: RUN_STARTED_AT },
      requeue: 'backoff',
    },
  },
  {
    reason: 'the key is back: the condition clears and the node joins; lastError stays (the last error met, not a current one)',
    world: {
      status: {
        phase: 'Error',
        lastError: 'Secret default/node-key key "keypair": not a keypair',
        conditions: [
          { type: 'KeyUnavailable', status: 'True', reason: 'KeyUnavailable', message: 'x', lastTransitionTime: '2026-06-01T11:00:00Z' },
        ],
      },
    },
    want: {
      phase: 'Idle',
      ready: 'Joining',
      action: 'joinQueue',
      events: ['Joined'],
      conditions: { KeyUnavailable: 'False' },
      status: { nodeAddress: node, lastError: 'Secret default/node-key key "keypair": not a keypair' },
    },
  },
  {
    reason: 'the chain unreadable on a new node: Idle with ChainUnreadable, the read error kept as lastError, retried with backoff',
    world: { chain: { readError: 'connect ECONNREFUSED' } },
    want: {
      phase: 'Idle',
      ready: 'Joining',
      action: 'none',
      events: ['RpcUnavailable'],
      conditions: { ChainUnreadable: 'True' },
      status: { lastError: 'the chain could not be read: connect ECONNREFUSED' },
      requeue: 'backoff',
    },
  },
  {
    reason: 'the chain unreadable while running: the phase stays, the executor goes on',
    world: { status: BUSY, chain: { readError: 'timeout' }, executor: running() },
    want: { phase: 'Running', action: 'none', events: ['RpcUnavailable'], conditions: { ChainUnreadable: 'True' }, requeue: 'backoff' },
  },
  {
    reason: 'the chain unreadable with a pending ending: the same bytes are sent again',
    world: { status: BUSY, chain: { readError: 'timeout' }, record: record({ ending: 'finish' }) },
    want: { phase: 'Running', action: 'broadcast', events: ['RpcUnavailable'] },
  },

  // --- idle: joining, queued, paused ---------------------------------------------------------
  {
    reason: 'a new node with everything in place joins the queue',
    world: {},
    want: { phase: 'Idle', ready: 'Joining', action: 'joinQueue', with: { market }, events: ['Joined'], status: { nodeAddress: node } },
  },
  {
    reason: 'in the queue: Queued with its position',
    world: { chain: queued },
    want: { phase: 'Queued', ready: 'Queued', action: 'none', status: { queuePosition: 1 }, requeue: SETTINGS.pollIntervalMs },
  },
  {
    reason: "in the queue when the cluster loses its room: Idle / NoCapacity saying the verdict's reason, and the node leaves the queue",
    world: { status: { phase: 'Queued', queuePosition: 1 }, chain: queued, capacity: GPUS_IN_USE },
    want: {
      phase: 'Idle',
      ready: 'NoCapacity',
      action: 'leaveQueue',
      with: { market },
      events: ['GpusInUse'],
      conditions: { NoCapacity: 'True' },
      says: {
        Ready: {
          message: /^leaving the queue of market gpu-market: the cluster has no room .*largest free: 0 of nvidia\.com\/gpu on gpu-1/,
        },
        NoCapacity: { reason: 'GpusInUse', message: /no room for one more job of this node now: largest free: 0 of nvidia\.com\/gpu/ },
      },
      status: { queuePosition: undefined },
    },
  },
  {
    reason: 'in the queue when capacity cannot be judged: the node leaves the queue too (it may be handed a job it cannot run)',
    world: { status: { phase: 'Queued', queuePosition: 1 }, chain: queued, capacity: CAPACITY_UNKNOWN },
    want: {
      phase: 'Idle',
      ready: 'NoCapacity',
      action: 'leaveQueue',
      events: ['CapacityUnknown'],
      says: { NoCapacity: { reason: 'CapacityUnknown', message: /cannot be judged: DeviceClass gpu\.example\.com does not exist/ } },
    },
  },
  {
    reason: "GPUs in use: Idle / NoCapacity, the condition's reason is the verdict's cause and its message the verdict's reason; polled",
    world: { capacity: GPUS_IN_USE },
    want: {
      phase: 'Idle',
      ready: 'NoCapacity',
      action: 'none',
      events: ['GpusInUse'],
      conditions: { NoCapacity: 'True' },
      says: {
        Ready: { message: /^not joining market gpu-market: the cluster has no room for one more job of this node now: largest free/ },
        NoCapacity: { reason: 'GpusInUse', message: /largest free: 0 of nvidia\.com\/gpu on gpu-1; needs 1$/ },
      },
      requeue: SETTINGS.pollIntervalMs,
    },
  },
  {
    reason:
      'no node can take a job of this node at all: NoCapacity with cause NoSuitableNode, worded as no suitable node rather than busy GPUs',
    world: { capacity: NO_SUITABLE_NODE },
    want: {
      phase: 'Idle',
      ready: 'NoCapacity',
      action: 'none',
      events: ['NoSuitableNode'],
      says: {
        Ready: { message: /no node of the cluster can run a job of this node: no node advertises nvidia\.com\/gpu/ },
        NoCapacity: { reason: 'NoSuitableNode', message: /^no node of the cluster can run a job of this node: / },
      },
      requeue: SETTINGS.pollIntervalMs,
    },
  },
  {
    reason: 'capacity that cannot be judged is not called a full cluster: NoCapacity with cause CapacityUnknown says it cannot be judged',
    world: { capacity: CAPACITY_UNKNOWN },
    want: {
      phase: 'Idle',
      ready: 'NoCapacity',
      action: 'none',
      events: ['CapacityUnknown'],
      says: {
        Ready: {
          message: /^not joining market gpu-market: whether the cluster has room for a job of this node cannot be judged: DeviceClass/,
        },
        NoCapacity: {
          reason: 'CapacityUnknown',
          message: /^(?!.*no room).*cannot be judged: DeviceClass gpu\.example\.com does not exist$/,
        },
      },
      requeue: SETTINGS.pollIntervalMs,
    },
  },
  {
    reason: 'room again: NoCapacity clears and the node joins',
    world: {
      status: {
        phase: 'Idle',
        conditions: [
          { type: 'NoCapacity', status: 'True', reason: 'NoCapacity', message: 'x', lastTransitionTime: '2026-06-01T11:00:00Z' },
        ],
      },
    },
    want: { phase: 'Idle', ready: 'Joining', action: 'joinQueue', events: ['Joined'], conditions: { NoCapacity: 'False' } },
  },
  {
    reason: 'SOL below the threshold: Idle / LowBalance saying how much it holds and needs; the node does not join',
    world: { chain: chain({ balances: { lamports: 1_000n, nos: 0n } }) },
    want: {
      phase: 'Idle',
      ready: 'LowBalance',
      action: 'none',
      events: ['BalanceLow'],
      conditions: { LowBalance: 'True' },
      says: { Ready: { message: /^not joining market gpu-market: node \w+ holds 0\.000001 SOL, below the 0\.01 SOL/ } },
      requeue: 'backoff',
    },
  },
  {
    reason: 'short of stake and of SOL: Error / StakeBelowMinimum (funding alone would not let it in), LowBalance still reported',
    world: {
      chain: chain({
        market: marketView({ minimum: 1_000n }),
        accounts: { nosAccount: true, stake: stake(10n) },
        balances: { lamports: 1_000n, nos: 0n },
      }),
    },
    want: {
      phase: 'Error',
      ready: 'StakeBelowMinimum',
      action: 'none',
      events: ['BalanceLow', 'StakeBelowMinimum'],
      conditions: { LowBalance: 'True', StakeBelowMinimum: 'True' },
      requeue: SETTINGS.recheckMs,
    },
  },
  {
    reason: 'SOL below the threshold while queued: reported, the node stays in the queue',
    world: { chain: chain({ market: marketView({ queue: [node] }), balances: { lamports: 1_000n, nos: 0n } }) },
    want: {
      phase: 'Queued',
      ready: 'Queued',
      action: 'none',
      events: ['BalanceLow'],
      conditions: { LowBalance: 'True' },
      status: { queuePosition: 0 },
    },
  },
  {
    reason: 'SOL below the threshold while running: reported, the run goes on',
    world: { status: BUSY, chain: chain({ run: runView(), job: RUNNING, balances: { lamports: 1_000n, nos: 0n } }), executor: running() },
    want: { phase: 'Running', ready: 'Running', action: 'none', events: ['BalanceLow'], conditions: { LowBalance: 'True' } },
  },
  {
    reason: "a stake below the market's nodeXnosMinimum: Error / StakeBelowMinimum in xNOS amounts, not a silent failure",
    world: { chain: chain({ market: marketView({ minimum: 1_000n }), accounts: { nosAccount: true, stake: stake(10n) } }) },
    want: {
      phase: 'Error',
      ready: 'StakeBelowMinimum',
      action: 'none',
      events: ['StakeBelowMinimum'],
      conditions: { StakeBelowMinimum: 'True' },
      says: { Ready: { message: /asks for a stake of at least 0\.001 xNOS; node \w+ has 0\.00001/ } },
      requeue: SETTINGS.recheckMs,
    },
  },
  {
    reason: 'no stake account for a market that needs stake: reported before any account is paid for',
    world: { chain: chain({ market: marketView({ minimum: 1_000n }), accounts: { nosAccount: false } }) },
    want: {
      phase: 'Error',
      ready: 'StakeBelowMinimum',
      action: 'none',
      events: ['StakeBelowMinimum'],
      conditions: { StakeBelowMinimum: 'True' },
    },
  },
  {
    reason:
      'a market that needs an access key: Error / AccessKeyRequired, saying plainly that holding one is not checked yet (not that the node holds none)',
    world: { chain: chain({ market: marketView({ accessKey: 'collection' }), accessKey: 'missing' }) },
    want: {
      phase: 'Error',
      ready: 'AccessKeyRequired',
      action: 'none',
      events: ['AccessKeyMissing'],
      conditions: { AccessKeyRequired: 'True' },
      says: {
        Ready: { message: /^(?!.*holds none).*an NFT of collection \w+\); this agent does not check or present access keys yet/ },
        AccessKeyRequired: { reason: 'AccessKeyMissing', message: /does not check or present access keys yet/ },
      },
      requeue: SETTINGS.recheckMs,
    },
  },
  {
    reason: 'a market that needs an access key the node holds: the node joins',
    world: { chain: chain({ market: marketView({ accessKey: 'collection' }), accessKey: 'held' }) },
    want: { phase: 'Idle', ready: 'Joining', action: 'joinQueue', events: ['Joined'], conditions: { AccessKeyRequired: 'absent' } },
  },
  {
    reason: 'no NOS token account: it is created before joining',
    world: { chain: chain({ accounts: { nosAccount: false, stake: stake(0n) } }) },
    want: { phase: 'Idle', ready: 'Joining', action: 'ensureAccounts', with: { nosAccount: true, stake: false } },
  },
  {
    reason: 'no stake account (a market asking none): one with zero stake is created before joining',
    world: { chain: chain({ accounts: { nosAccount: true } }) },
    want: { phase: 'Idle', ready: 'Joining', action: 'ensureAccounts', with: { nosAccount: false, stake: true } },
  },
  {
    reason: 'the market cannot be found: Error / MarketUnavailable, looked at again now and then',
    world: { chain: chain({ market: { missing: 'no market account at the address' } }) },
    want: {
      phase: 'Error',
      ready: 'MarketUnavailable',
      action: 'none',
      events: ['MarketUnavailable'],
      conditions: { MarketUnavailable: 'True' },
      says: { Ready: { message: /market gpu-market cannot be served: no market account at the address/ } },
      requeue: SETTINGS.recheckMs,
    },
  },
  {
    reason: 'a disabled market (job type 255) queues no node: Error / MarketUnavailable',
    world: { chain: chain({ market: marketView({ jobType: 255 }) }) },
    want: {
      phase: 'Error',
      ready: 'MarketUnavailable',
      action: 'none',
      events: ['MarketUnavailable'],
      conditions: { MarketUnavailable: 'True' },
    },
  },
  {
    reason:
      'in the queue when the containment refuses the placement: Error / PlacementRefused and the node leaves the queue (a job taken now would run where it may not)',
    world: { status: { phase: 'Queued', queuePosition: 1 }, chain: queued, placementRefusal: REFUSED },
    want: {
      phase: 'Error',
      ready: 'PlacementRefused',
      action: 'leaveQueue',
      with: { market },
      events: ['PlacementRefused'],
      conditions: { PlacementRefused: 'True' },
      says: {
        Ready: { message: /^leaving the queue of market gpu-market: namespace gpu-jobs \(spec\.pods\.namespace\) is not marked for jobs/ },
        PlacementRefused: {
          reason: 'PlacementRefused',
          message: /^namespace gpu-jobs \(spec\.pods\.namespace\) is not marked for jobs: an administrator/,
        },
      },
      status: { queuePosition: undefined },
      requeue: 500,
    },
  },
  {
    reason:
      'out of the queue when the containment refuses the placement: Error / PlacementRefused saying why, nothing joins, looked at again',
    world: { placementRefusal: REFUSED },
    want: {
      phase: 'Error',
      ready: 'PlacementRefused',
      action: 'none',
      events: ['PlacementRefused'],
      conditions: { PlacementRefused: 'True' },
      says: {
        Ready: {
          message:
            /^namespace gpu-jobs \(spec\.pods\.namespace\) is not marked for jobs: an administrator labels it nosana\.io\/jobs=allowed/,
        },
        PlacementRefused: { reason: 'PlacementRefused', message: /nosana\.io\/jobs=allowed to let job Pods run there$/ },
      },
      requeue: SETTINGS.recheckMs,
    },
  },
  {
    reason: 'a refusal already reported is not announced again',
    world: { status: refusedStatus, placementRefusal: REFUSED },
    want: {
      phase: 'Error',
      ready: 'PlacementRefused',
      action: 'none',
      conditions: { PlacementRefused: 'True' },
      requeue: SETTINGS.recheckMs,
    },
  },
  {
    reason: 'the refusal goes (the namespace labelled, the limits lowered): PlacementRefused clears as PlacementAllowed and the node joins',
    world: { status: refusedStatus },
    want: {
      phase: 'Idle',
      ready: 'Joining',
      action: 'joinQueue',
      events: ['Joined'],
      conditions: { PlacementRefused: 'False' },
      says: { PlacementRefused: { reason: 'PlacementAllowed' } },
    },
  },
  {
    reason: 'a node never refused gets no PlacementRefused condition at all',
    world: {},
    want: { phase: 'Idle', ready: 'Joining', action: 'joinQueue', events: ['Joined'], conditions: { PlacementRefused: 'absent' } },
  },
  {
    reason: 'a market that cannot be served is reported before the placement (it needs a person either way, the market first)',
    world: { chain: chain({ market: { missing: 'gone' } }), placementRefusal: REFUSED },
    want: { phase: 'Error', ready: 'MarketUnavailable', action: 'none', events: ['MarketUnavailable'] },
  },
  {
    reason: 'paused with the placement refused: Idle / Paused, not Error (it takes no job anyway)',
    world: { paused: true, placementRefusal: REFUSED },
    want: { phase: 'Idle', ready: 'Paused', action: 'none', events: [] },
  },
  {
    reason: 'a refusal while a job runs: the run goes on (only joining and staying queued are refused)',
    world: { status: BUSY, chain: HOLDING, executor: running(), placementRefusal: REFUSED },
    want: { phase: 'Running', ready: 'Running', action: 'none', events: [] },
  },
  {
    reason: '`work` sent 10 s ago and not shown yet: not sent twice (it could claim two jobs)',
    world: { lastJoinAt: new Date(NOW.getTime() - 10_000) },
    want: { phase: 'Idle', ready: 'Joining', action: 'none', requeue: 20_000 },
  },
  {
    reason: '`work` sent past the settle time and still not shown: sent again, with the placement it joins with in the status',
    world: { lastJoinAt: new Date(NOW.getTime() - 40_000) },
    want: { phase: 'Idle', ready: 'Joining', action: 'joinQueue', events: ['Joined'], status: { joinedPlacement: PLACEMENT } },
  },
  {
    reason: 'paused in the queue: the node leaves it',
    world: { paused: true, chain: queued },
    want: { phase: 'Draining', ready: 'Draining', action: 'leaveQueue', with: { market } },
  },
  {
    reason: 'paused out of the queue: Idle/Paused, nothing to do until the spec changes',
    world: { paused: true },
    want: { phase: 'Idle', ready: 'Paused', action: 'none', requeue: 'none' },
  },
  {
    reason: 'paused with its market gone: Paused, not Error',
    world: { paused: true, chain: chain({ market: { missing: 'gone' } }) },
    want: { phase: 'Idle', ready: 'Paused', action: 'none' },
  },
  {
    reason: 'deleted while in the queue: the node leaves it first',
    world: { deleting: true, chain: queued },
    want: { phase: 'Draining', ready: 'Draining', action: 'leaveQueue' },
  },
  {
    reason: 'deleted, out of the queue and with no run: the object may go',
    world: { deleting: true },
    want: { phase: 'Idle', ready: 'Paused', action: 'removeFinalizer' },
  },

  // --- a run held on chain ---------------------------------------------------------------------
  {
    reason:
      "a run for this node appears: it is adopted into the status and started with the same write (starting signs nothing), with a Claimed Event; startedAt is the run's start as the chain recorded it, not now",
    world: { status: { phase: 'Queued', queuePosition: 0 }, chain: HOLDING },
    want: {
      phase: 'Running',
      ready: 'Running',
      action: 'startRun',
      with: { jobAddress: job, runAddress: run, deadlineMs: DEADLINE_MS },
      events: ['Claimed'],
      status: { currentRun: run, currentJob: job, startedAt: RUN_STARTED_AT, queuePosition: undefined },
    },
  },
  {
    reason:
      'a run appears that would be quit (the containment refuses its placement): adopted first, the quit signed only once the status names it',
    world: { status: { phase: 'Queued', queuePosition: 0 }, chain: HOLDING, placementRefusal: REFUSED },
    want: { phase: 'Running', action: 'none', events: ['Claimed'], status: { currentRun: run, currentJob: job } },
  },
  {
    reason: 'a run appears that expired before it started: adopted first, the quit signed only once the status names it',
    world: { status: { phase: 'Queued', queuePosition: 0 }, chain: chain({ run: runView({ time: NOW_S - 700n }), job: RUNNING }) },
    want: { phase: 'Running', action: 'none', events: ['Claimed'], status: { currentRun: run } },
  },
  {
    reason:
      'a run appears whose definition an earlier start could not fetch (a status restored from a backup): adopted only, the retry and its Event on the next look',
    world: {
      status: { phase: 'Queued' },
      chain: HOLDING,
      executor: { state: 'start-failed', jobAddress: job, runAddress: run, atMs: 0, error: 'gateway down' },
    },
    want: { phase: 'Running', action: 'none', events: ['Claimed'], status: { currentRun: run, lastError: undefined } },
  },
  {
    reason: 'a run the executor already runs appears in a status that lost it (restored from a backup): adopted, nothing started again',
    world: { status: { phase: 'Queued' }, chain: HOLDING, executor: running() },
    want: { phase: 'Running', action: 'none', events: ['Claimed'], status: { currentRun: run, currentJob: job } },
  },
  {
    reason: 'a held run the status names without startedAt (written before it existed): startedAt is filled in from the run account',
    world: { status: { phase: 'Running', nodeAddress: node, currentRun: run, currentJob: job }, chain: HOLDING, executor: running() },
    want: { phase: 'Running', action: 'none', status: { startedAt: RUN_STARTED_AT } },
  },
  {
    reason: 'a held run not started (also after a restart): run with deadline = run start + job timeout',
    world: { status: BUSY, chain: HOLDING },
    want: { phase: 'Running', ready: 'Running', action: 'startRun', with: { jobAddress: job, runAddress: run, deadlineMs: DEADLINE_MS } },
  },
  {
    reason: 'a held run not started whose placement the containment now refuses (an edit after the claim): quit, never run there',
    world: { status: BUSY, chain: HOLDING, placementRefusal: REFUSED },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'quit', jobAddress: job, runAddress: run } },
  },
  {
    reason:
      'a held run not started whose placement changed since the node joined (more GPUs, another namespace): quit, never run as edited',
    world: { status: { ...BUSY, joinedPlacement: 'placement-0' }, chain: HOLDING },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'quit' } },
  },
  {
    reason: 'a held run not started, placement as the node joined: run',
    world: { status: { ...BUSY, joinedPlacement: PLACEMENT }, chain: HOLDING },
    want: { phase: 'Running', action: 'startRun' },
  },
  {
    reason: 'a held run that expired before it started: quit, never finish (no work was done)',
    world: { status: BUSY, chain: chain({ run: runView({ time: NOW_S - 700n }), job: RUNNING }) },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'quit', jobAddress: job, runAddress: run } },
  },
  {
    reason: 'running: the node polls',
    world: { status: BUSY, chain: HOLDING, executor: running() },
    want: { phase: 'Running', ready: 'Running', action: 'none', requeue: SETTINGS.pollIntervalMs },
  },
  {
    reason: "running when the job's timeout grew: the deadline moves later",
    world: { status: BUSY, chain: chain({ run: runView(), job: jobView('RUNNING', { timeout: 1_200n }) }), executor: running() },
    want: { phase: 'Running', action: 'moveDeadline', with: { runAddress: run, deadlineMs: Number(RUN_START + 1_200n) * 1000 } },
  },
  {
    reason: 'the flow ended: the result document is pinned',
    world: { status: BUSY, chain: HOLDING, executor: ended('success') },
    want: { phase: 'Running', action: 'pinResult', with: { jobAddress: job, runAddress: run, flow: flow('success') } },
  },
  {
    reason: "the flow failed (an image pull, an OOM kill, a failing command: the job's own failure): pinned to be finished, not quit",
    world: { status: BUSY, chain: HOLDING, executor: ended('failed') },
    want: { phase: 'Running', action: 'pinResult', with: { flow: flow('failed') } },
  },
  {
    reason: 'a Pod evicted (a cluster failure, not the job): quit, the failure kept as lastError',
    world: {
      status: BUSY,
      chain: HOLDING,
      executor: {
        state: 'cluster-failure',
        jobAddress: job,
        runAddress: run,
        opId: 'main',
        cause: 'evicted',
        message: 'The node was low on memory',
      },
    },
    want: {
      phase: 'Running',
      action: 'prepare',
      with: { ending: 'quit', failures: 0 },
      status: { lastError: `the cluster failed job ${job} (evicted, op main): The node was low on memory` },
    },
  },
  {
    reason: 'GPUs unschedulable past the bound: quit',
    world: {
      status: BUSY,
      chain: HOLDING,
      executor: {
        state: 'cluster-failure',
        jobAddress: job,
        runAddress: run,
        opId: 'main',
        cause: 'unschedulable',
        message: '0/3 nodes have free nvidia.com/gpu',
      },
    },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'quit' } },
  },
  {
    reason: 'a claimed job whose plan needs more GPUs than the cluster has: quit at once',
    world: {
      status: BUSY,
      chain: HOLDING,
      executor: { state: 'too-large', jobAddress: job, runAddress: run, gpusNeeded: 4, gpusAvailable: 1 },
    },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'quit' } },
  },
  {
    reason: 'the definition could not be fetched, retry not due yet: wait',
    world: {
      status: BUSY,
      chain: HOLDING,
      executor: { state: 'start-failed', jobAddress: job, runAddress: run, error: 'gateway 502', atMs: NOW.getTime() - 5_000 },
    },
    want: { phase: 'Running', action: 'none', requeue: 10_000 },
  },
  {
    reason: 'the definition could not be fetched, retry due: fetched again; the fetch error is kept as lastError',
    world: {
      status: BUSY,
      chain: HOLDING,
      executor: { state: 'start-failed', jobAddress: job, runAddress: run, error: 'gateway 502', atMs: NOW.getTime() - 20_000 },
    },
    want: {
      phase: 'Running',
      action: 'startRun',
      with: { deadlineMs: DEADLINE_MS },
      events: ['DefinitionUnavailable'],
      status: { lastError: `the definition of job ${job} could not be fetched: gateway 502` },
    },
  },
  {
    reason: 'the definition could not be fetched before the deadline: quit (nothing was run)',
    world: {
      status: BUSY,
      chain: chain({ run: runView({ time: NOW_S - 700n }), job: RUNNING }),
      executor: { state: 'start-failed', jobAddress: job, runAddress: run, error: 'gateway 502', atMs: NOW.getTime() - 20_000 },
    },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'quit' } },
  },
  {
    reason: 'a held run whose job account could not be read: nothing is decided on a guess',
    world: { status: BUSY, chain: chain({ run: runView() }) },
    want: { phase: 'Running', action: 'none', requeue: 'backoff' },
  },
  {
    reason: 'paused while running: Draining, and the current job still starts and finishes',
    world: { status: BUSY, paused: true, chain: HOLDING },
    want: { phase: 'Draining', ready: 'Draining', action: 'startRun' },
  },
  {
    reason: 'deleted while running: Draining, the run goes on',
    world: { status: BUSY, deleting: true, chain: HOLDING, executor: running() },
    want: { phase: 'Draining', ready: 'Draining', action: 'none' },
  },
  {
    reason: 'the executor still runs a run this node no longer holds (it holds another): that one is stopped',
    world: { status: BUSY, chain: chain({ run: runView({ address: OTHER_RUN }), job: RUNNING }), executor: running() },
    want: { phase: 'Running', action: 'stopRun', with: { runAddress: run, why: 'run-lost' } },
  },
  {
    reason: 'the executor ended a run this node no longer holds: that one is released',
    world: { status: BUSY, chain: chain({ run: runView({ address: OTHER_RUN }), job: RUNNING }), executor: ended('success') },
    want: { phase: 'Running', action: 'releaseRun', with: { runAddress: run }, status: { currentRun: undefined } },
  },

  // --- a run no longer held ----------------------------------------------------------------------
  {
    reason: 'the poster ended the job while it ran: its Pods are stopped',
    world: { status: BUSY, chain: chain({ job: ENDED }), executor: running() },
    want: { phase: 'Running', action: 'stopRun', with: { runAddress: run, why: 'job-ended' }, events: ['JobEnded'] },
  },
  {
    reason: 'the poster ended the job, the stop already asked: wait for the flow to end',
    world: { status: BUSY, chain: chain({ job: ENDED }), executor: running({ stopping: 'job-ended' }) },
    want: { phase: 'Running', action: 'none', requeue: SETTINGS.pollIntervalMs },
  },
  {
    reason: 'the poster ended the job and the flow ended: its result is pinned (for complete)',
    world: { status: BUSY, chain: chain({ job: ENDED }), executor: ended('success') },
    want: { phase: 'Running', action: 'pinResult' },
  },
  {
    reason: 'the run closed elsewhere (the job gone) while running: its Pods are stopped',
    world: { status: BUSY, chain: chain(), executor: running() },
    want: { phase: 'Running', action: 'stopRun', with: { why: 'run-lost' }, events: ['RunLost'] },
  },
  {
    reason: 'the run closed elsewhere and the flow ended: nothing can be sent, the run is released',
    world: { status: BUSY, chain: chain({ job: jobView('QUEUED') }), executor: ended('success') },
    want: {
      phase: 'Idle',
      ready: 'Joining',
      action: 'releaseRun',
      events: ['RunLost'],
      status: { currentRun: undefined, currentJob: undefined, jobsCompleted: 4 },
    },
  },
  {
    reason: 'after a restart the status names a run the poster ended meanwhile: nothing ran to deliver, it is released',
    world: { status: BUSY, chain: chain({ job: ENDED }) },
    want: { phase: 'Idle', ready: 'Joining', action: 'releaseRun', events: ['JobEnded'], status: { currentRun: undefined } },
  },
  {
    reason: 'a cluster failure on a run already closed: released, nothing sent',
    world: {
      status: BUSY,
      chain: chain(),
      executor: { state: 'cluster-failure', jobAddress: job, runAddress: run, opId: 'main', cause: 'node-lost', message: 'node gone' },
    },
    want: { phase: 'Idle', action: 'releaseRun', events: ['RunLost'] },
  },

  // --- the ending ----------------------------------------------------------------------------------
  {
    reason: 'a result pinned for a held run: finish is signed (and recorded before broadcast)',
    world: { status: BUSY, chain: HOLDING, record: record() },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'finish', resultCid: RESULT_CID, jobAddress: job, runAddress: run } },
  },
  {
    reason: 'a result pinned after the poster ended the job: complete is signed',
    world: { status: BUSY, chain: chain({ job: ENDED }), record: record() },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'complete', resultCid: RESULT_CID } },
  },
  {
    reason: 'a result pinned but the run closed elsewhere and the job awaits nothing: lost, counted as nothing',
    world: { status: BUSY, chain: chain({ job: jobView('QUEUED') }), record: record() },
    want: {
      phase: 'Idle',
      action: 'none',
      events: ['EndingLost'],
      status: { currentRun: undefined, jobsCompleted: 4, jobsFailed: 1, earningsBaseUnits: '5' },
    },
  },
  {
    reason: 'killed after the finish was recorded, before its broadcast: the same bytes are sent',
    world: { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', outcome: pending }) },
    want: { phase: 'Running', action: 'broadcast', with: { signed: signed('finish') }, requeue: 2_000 },
  },
  {
    reason: 'the finish landed: counted once (completed, earnings, not quit), the run and its start no longer named, Idle',
    world: { status: BUSY, chain: chain({ job: FINISHED }), record: record({ ending: 'finish', outcome: landed }) },
    want: {
      phase: 'Idle',
      ready: 'Joining',
      action: 'none',
      events: ['Finished'],
      status: {
        jobsCompleted: 5,
        jobsFailed: 1,
        jobsQuit: 2,
        earningsBaseUnits: (5n + EARNED).toString(),
        earnings: '0.002505',
        currentRun: undefined,
        currentJob: undefined,
        startedAt: undefined,
      },
    },
  },
  {
    reason:
      'the finish landed but the job is still read as running (a read from before the landing): nothing counted yet, so its pay is not lost',
    world: { status: BUSY, chain: chain({ job: RUNNING }), record: record({ ending: 'finish', outcome: landed }) },
    want: {
      phase: 'Running',
      action: 'none',
      status: { jobsCompleted: 4, earningsBaseUnits: '5', currentRun: run },
      requeue: 500,
    },
  },
  {
    reason: 'the finish of a failed flow landed: counted as failed, still paid',
    world: {
      status: BUSY,
      chain: chain({ job: FINISHED }),
      record: record({ result: 'failed', ending: 'finish', outcome: landed }),
    },
    want: {
      phase: 'Idle',
      action: 'none',
      events: ['Finished'],
      status: { jobsCompleted: 4, jobsFailed: 2, earningsBaseUnits: (5n + EARNED).toString() },
    },
  },
  {
    reason: 'a landed finish whose count was written already: the record is only released, nothing counted again',
    world: { status: counted, chain: chain({ job: FINISHED }), record: record({ ending: 'finish', outcome: landed }) },
    want: { phase: 'Idle', action: 'releaseRun', with: { runAddress: run }, status: { jobsCompleted: 4, earningsBaseUnits: '5' } },
  },
  {
    reason: 'the signature cannot be resolved but the job shows our result: it landed',
    world: { status: BUSY, chain: chain({ job: FINISHED }), record: record({ ending: 'finish', outcome: unknown }) },
    want: { phase: 'Idle', action: 'none', events: ['Finished'], status: { jobsCompleted: 5 } },
  },
  {
    reason: 'the job completed by this node with another result (an earlier signed version took): done, counted once, never signed again',
    world: {
      status: BUSY,
      chain: chain({ job: jobView('COMPLETED', { result: OTHER_RESULT }) }),
      record: record({ ending: 'finish', outcome: unknown }),
    },
    want: { phase: 'Idle', action: 'none', events: ['Finished'], status: { jobsCompleted: 5, currentRun: undefined } },
  },
  {
    reason: 'the outcome unknown and no evidence: nothing is signed again (it may still land); not an error, so lastError is not touched',
    world: { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', outcome: unknown }) },
    want: { phase: 'Running', action: 'none', status: { lastError: undefined }, requeue: 'backoff' },
  },
  {
    reason: 'the outcome unreadable now: wait with backoff, the read error kept as lastError',
    world: { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', outcome: { outcome: 'unreadable', error: '429' } }) },
    want: {
      phase: 'Running',
      action: 'none',
      status: { lastError: `the finish of job ${job}: whether it landed cannot be told yet: 429` },
      requeue: 'backoff',
    },
  },
  {
    reason: 'the finish expired without landing and the run still exists: signed again',
    world: { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', outcome: expired }) },
    want: { phase: 'Running', action: 'resign', with: { signed: signed('finish'), failures: 0 }, events: ['EndingExpired'] },
  },
  {
    reason: 'the finish failed on chain and the run still exists: signed again after a backoff, the failure counted and kept as lastError',
    world: { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', failures: 1, outcome: failedOnChain }) },
    want: {
      phase: 'Running',
      action: 'resign',
      with: { failures: 2 },
      events: ['EndingFailed'],
      status: {
        lastError: `the finish of job ${job}: the finish failed (custom program error 0x1779); nothing changed, a new one may be signed`,
      },
      requeue: 'backoff',
    },
  },
  {
    reason: 'the finish failed maxEndingFailures times: Error / EndingFailed, nothing more is sent until a person looks',
    world: { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', failures: 2, outcome: failedOnChain }) },
    want: {
      phase: 'Error',
      ready: 'EndingFailed',
      action: 'none',
      events: ['EndingFailed'],
      says: { Ready: { message: /3 signed versions of it failed, so no more are sent until a person looks/ } },
      status: { lastError: /custom program error 0x1779/, currentRun: run },
      requeue: 'none',
    },
  },
  {
    reason: 'an ending failing for good after an Error of another cause (the key): EndingFailed is still announced',
    world: {
      status: {
        ...BUSY,
        phase: 'Error',
        conditions: [
          { type: 'Ready', status: 'False', reason: 'KeyUnavailable', message: 'x', lastTransitionTime: '2026-06-01T11:00:00Z' },
        ],
      },
      chain: HOLDING,
      record: record({ ending: 'finish', failures: 2, outcome: failedOnChain }),
    },
    want: { phase: 'Error', ready: 'EndingFailed', action: 'none', events: ['EndingFailed'], requeue: 'none' },
  },
  {
    reason: 'the finish expired and the poster ended the job meanwhile: complete with the same result',
    world: { status: BUSY, chain: chain({ job: ENDED }), record: record({ ending: 'finish', outcome: expired }) },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'complete', resultCid: RESULT_CID } },
  },
  {
    reason:
      'a finish in flight when the poster ended the job: the run is closed so it can never take; complete is signed with the same result',
    world: { status: BUSY, chain: chain({ job: ENDED }), record: record({ ending: 'finish', outcome: pending }) },
    want: { phase: 'Running', action: 'prepare', with: { ending: 'complete', resultCid: RESULT_CID } },
  },
  {
    reason: 'the finish expired and the run is closed with the job gone: lost, nothing counted',
    world: { status: BUSY, chain: chain(), record: record({ ending: 'finish', outcome: expired }) },
    want: {
      phase: 'Idle',
      action: 'none',
      events: ['EndingLost'],
      status: { jobsCompleted: 4, jobsFailed: 1, jobsQuit: 2, currentRun: undefined },
    },
  },
  {
    reason: "the complete landed: counted, the pay is what the poster's end gave",
    world: { status: BUSY, chain: chain({ job: FINISHED }), record: record({ ending: 'complete', outcome: landed }) },
    want: {
      phase: 'Idle',
      action: 'none',
      events: ['Finished'],
      status: { jobsCompleted: 5, earningsBaseUnits: (5n + EARNED).toString() },
    },
  },
  {
    reason: 'the complete expired and the job still awaits a result: signed again',
    world: { status: BUSY, chain: chain({ job: ENDED }), record: record({ ending: 'complete', outcome: expired }) },
    want: { phase: 'Running', action: 'resign', with: { signed: signed('complete') }, events: ['EndingExpired'] },
  },
  {
    reason: 'a quit signed for a held run, pending: the same bytes',
    world: { status: BUSY, chain: HOLDING, record: record({ result: false, ending: 'quit' }) },
    want: { phase: 'Running', action: 'broadcast', with: { signed: signed('quit') } },
  },
  {
    reason: 'the quit landed: a Quit Event with its cause, counted once as quit, nothing earned, completed or failed',
    world: {
      status: BUSY,
      chain: chain({ job: jobView('STOPPED') }),
      record: record({ result: false, ending: 'quit', outcome: landed }),
    },
    want: {
      phase: 'Idle',
      action: 'none',
      events: ['Quit'],
      status: { jobsCompleted: 4, jobsFailed: 1, jobsQuit: 3, earningsBaseUnits: '5', currentRun: undefined, startedAt: undefined },
    },
  },
  {
    reason: 'a landed quit whose count was written already: only released, jobsQuit not counted again',
    world: {
      status: counted,
      chain: chain({ job: jobView('STOPPED') }),
      record: record({ result: false, ending: 'quit', outcome: landed }),
    },
    want: { phase: 'Idle', action: 'releaseRun', status: { jobsQuit: 2 } },
  },
  {
    reason: 'the quit outcome unknown, but the run is closed and the job stopped: it landed',
    world: {
      status: BUSY,
      chain: chain({ job: jobView('STOPPED') }),
      record: record({ result: false, ending: 'quit', outcome: unknown }),
    },
    want: { phase: 'Idle', action: 'none', events: ['Quit'] },
  },
  {
    reason: 'the quit expired with the run still held: signed again',
    world: { status: BUSY, chain: HOLDING, record: record({ result: false, ending: 'quit', outcome: expired }) },
    want: { phase: 'Running', action: 'resign', events: ['EndingExpired'] },
  },
  {
    reason:
      'the quit expired and the poster ended the job meanwhile: nothing is left to quit, settled as lost without a count (not even as quit)',
    world: { status: BUSY, chain: chain({ job: ENDED }), record: record({ result: false, ending: 'quit', outcome: expired }) },
    want: {
      phase: 'Idle',
      action: 'none',
      events: ['EndingLost'],
      status: { jobsCompleted: 4, jobsFailed: 1, jobsQuit: 2, currentRun: undefined },
    },
  },
  {
    reason:
      'a record whose run the status lost, ending unsettled: the run (and its start, the run still held) is named again before anything is sent',
    world: { status: { phase: 'Idle', nodeAddress: node }, chain: HOLDING, record: record({ ending: 'finish', outcome: pending }) },
    want: { phase: 'Running', action: 'none', status: { currentRun: run, currentJob: job, startedAt: RUN_STARTED_AT } },
  },
  {
    reason:
      "a record whose run the status does not name, the run closed by the poster: named again, and another run's start is not shown for it (no run account to read its own from)",
    world: {
      status: { phase: 'Idle', nodeAddress: node, currentRun: OTHER_RUN.toBase58(), startedAt: '2026-06-01T10:00:00Z' },
      chain: chain({ job: ENDED }),
      record: record({ ending: 'complete', outcome: pending }),
    },
    want: { phase: 'Running', action: 'none', status: { currentRun: run, startedAt: undefined } },
  },
  {
    reason:
      "a record holding another key's quit that landed: not counted as this node's quit, nothing released or signed; Error / EndingFailed until a person looks",
    world: { status: BUSY, chain: chain({ job: jobView('QUEUED') }), record: foreignRecord(landed) },
    want: {
      phase: 'Error',
      ready: 'EndingFailed',
      action: 'none',
      events: ['EndingFailed'],
      says: { Ready: { message: /signed by .*, not by this node/ } },
      status: { jobsQuit: 2, currentRun: run, lastError: /signed by .*, not by this node/ },
      requeue: 'none',
    },
  },
  {
    reason: 'a pending ending another key signed is not sent again, even while the chain cannot be read',
    world: { status: BUSY, chain: { readError: 'timeout' }, record: foreignRecord(pending) },
    want: { phase: 'Running', action: 'none', events: ['RpcUnavailable'], requeue: 'backoff' },
  },
  {
    reason: 'a record with neither result nor ending says nothing: released',
    world: { status: BUSY, chain: HOLDING, record: { jobAddress: job, runAddress: run } },
    want: { phase: 'Running', action: 'releaseRun' },
  },
  {
    reason: 'the finish landed while paused: Idle/Paused, it does not rejoin',
    world: { status: BUSY, paused: true, chain: chain({ job: FINISHED }), record: record({ ending: 'finish', outcome: landed }) },
    want: { phase: 'Idle', ready: 'Paused', action: 'none', events: ['Finished'] },
  },
  {
    reason: 'a landed finish goes before a new run: the old record is settled first',
    world: {
      status: BUSY,
      chain: chain({ run: runView({ address: OTHER_RUN }), job: FINISHED }),
      record: record({ ending: 'finish', outcome: landed }),
    },
    want: { phase: 'Idle', action: 'none', events: ['Finished'] },
  },
];

function check(decision: NodeDecision, input: NodeWorld, want: Want): void {
  assert.equal(decision.status.phase, want.phase);
  if (want.ready !== undefined) assert.equal(findCondition(decision.status.conditions, 'Ready')?.reason, want.ready);
  assert.equal(decision.action.kind, want.action);
  for (const [field, value] of Object.entries(want.with ?? {}))
    assert.deepEqual((decision.action as Record<string, unknown>)[field], value, `action.${field}`);
  assert.deepEqual(
    decision.events.map((event) => event.reason),
    want.events ?? [],
  );
  for (const [type, status] of Object.entries(want.conditions ?? {}))
    assert.equal(findCondition(decision.status.conditions, type)?.status ?? 'absent', status, `condition ${type}`);
  for (const [type, says] of Object.entries(want.says ?? {})) {
    const condition = findCondition(decision.status.conditions, type);
    if (says.reason !== undefined) assert.equal(condition?.reason, says.reason, `condition ${type}'s reason`);
    if (says.message !== undefined) assert.match(condition?.message ?? '', says.message, `condition ${type}'s message`);
  }
  for (const [field, value] of Object.entries(want.status ?? {})) {
    const actual = decision.status[field as keyof NosanaNodeStatus];
    if (value instanceof RegExp) assert.match(String(actual), value, `status.${field}`);
    else assert.deepEqual(actual, value, `status.${field}`);
  }
  if (want.requeue === 'backoff') assert.equal(decision.backoff, true, 'retried with backoff');
  else if (want.requeue === 'none') assert.deepEqual([decision.requeueAfterMs, decision.backoff], [undefined, undefined], 'no requeue');
  else if (want.requeue !== undefined) assert.equal(decision.requeueAfterMs, want.requeue);
  // Pods start only for a run the status names: one the status read did not name yet is started
  // only after the status write that names it.
  if (decision.action.kind === 'startRun' && input.node.status.currentRun !== decision.action.runAddress)
    assert.equal(decision.statusFirst, true, 'a run not named yet is started after the status names it');
  // While a recorded ending may still land, nothing that could take its effect is signed: at most a
  // complete, once the run a finish needs is closed.
  const recorded = input.record?.ending;
  const outcome = recorded?.outcome.outcome;
  if (outcome === 'pending' || outcome === 'unknown' || outcome === 'unreadable') {
    assert.notEqual(decision.action.kind, 'resign', 'no second signature while one may land');
    if (decision.action.kind === 'prepare') {
      assert.deepEqual([recorded?.signed.kind, decision.action.ending], ['finish', 'complete']);
      assert.equal(input.chain !== undefined && 'run' in input.chain ? input.chain.run : undefined, undefined, 'the run is closed');
    }
  }
}

describe('decide: a NosanaNode', () => {
  for (const row of rows) {
    test(row.reason, () => {
      const input = world(row.world);
      const before = structuredClone(input.node.status);
      const decision = decide(input, SETTINGS);
      assert.deepEqual(input.node.status, before, 'the input status is not changed');
      check(decision, input, row.want);
    });
  }

  test('a poll that sees nothing new decides nothing new: no Event, the same status', () => {
    const first = decide(world({ chain: queued }), SETTINGS);
    const again = decide(world({ status: first.status, chain: queued }), SETTINGS);
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.status, first.status);
  });

  test('from start to landing a run costs two status writes: one when it starts, one when its result is on the way', () => {
    // Each step decides from the status the one before wrote; a status equal to the one read is not written.
    const steps: { step: string; world: Parameters<typeof world>[0]; action: string }[] = [
      { step: 'started', world: { chain: HOLDING }, action: 'startRun' },
      { step: 'running', world: { chain: HOLDING, executor: running() }, action: 'none' },
      { step: 'ended', world: { chain: HOLDING, executor: ended('success') }, action: 'pinResult' },
      { step: 'pinned', world: { chain: HOLDING, executor: ended('success'), record: record() }, action: 'prepare' },
      {
        step: 'signed, not landed yet',
        world: { chain: HOLDING, executor: ended('success'), record: record({ ending: 'finish', outcome: pending }) },
        action: 'broadcast',
      },
      {
        step: 'landed, the job read before it',
        world: { chain: HOLDING, executor: ended('success'), record: record({ ending: 'finish', outcome: landed }) },
        action: 'none',
      },
    ];
    let status: NosanaNodeStatus = { phase: 'Queued', nodeAddress: node, queuePosition: 0 };
    const written: string[] = [];
    for (const { step, world: input, action } of steps) {
      const decision = decide(world({ ...input, status }), SETTINGS);
      assert.equal(decision.action.kind, action, step);
      if (JSON.stringify(decision.status) !== JSON.stringify(status)) written.push(step);
      status = decision.status;
    }
    assert.deepEqual(written, ['started', 'ended']);
  });

  test('lastError is one short line with credentials redacted, whatever the error quoted', () => {
    const apiKey = 'k3y0f7h3rpc1234567890abcdef';
    const readError = `fetch failed for https://rpc.example.com/?api-key=${apiKey}\n    at request (undici)\n${'x'.repeat(2_000)}`;
    const decision = decide(world({ chain: { readError } }), SETTINGS);
    const lastError = decision.status.lastError ?? '';
    assert.match(
      lastError,
      /^the chain could not be read: fetch failed for https:\/\/rpc\.example\.com\/\?api-key=\[redacted\] at request/,
    );
    assert.ok(!lastError.includes(apiKey), 'the API key is not kept');
    assert.ok(!lastError.includes('\n'), 'one line');
    assert.ok(lastError.length <= 300 && lastError.endsWith('…'), `cut short: ${lastError.length} characters`);
  });

  test('an ending stopped at EndingFailed is announced once, however often it is looked at again', () => {
    const input = { status: BUSY, chain: HOLDING, record: record({ ending: 'finish', failures: 2, outcome: failedOnChain }) };
    const first = decide(world(input), SETTINGS);
    const again = decide(world({ ...input, status: first.status }), SETTINGS);
    assert.deepEqual(
      first.events.map((event) => event.reason),
      ['EndingFailed'],
    );
    assert.deepEqual([again.status.phase, again.action.kind, again.events], ['Error', 'none', []]);
  });

  test('a problem already reported is not announced again', () => {
    const low = chain({ balances: { lamports: 1n, nos: 0n } });
    const first = decide(world({ chain: low }), SETTINGS);
    const again = decide(world({ status: first.status, chain: low }), SETTINGS);
    assert.deepEqual(
      first.events.map((event) => event.reason),
      ['BalanceLow'],
    );
    assert.deepEqual(again.events, []);
  });
});

// ---------------------------------------------------------------------------------------------
// Killed at any instant: a run's ending from the flow's end to the next join

/** The chain, the run's record and the executor as the acting layer leaves them, and what reached the chain. */
interface Scene {
  status: NosanaNodeStatus;
  record?: RunRecord;
  chain: ChainSnapshot;
  executor: ExecutorState;
  /** Endings that took effect on chain, by kind. */
  sent: EndingKind[];
  signed: Set<string>;
}

function perform(scene: Scene, action: NodeAction): void {
  switch (action.kind) {
    case 'pinResult':
      scene.record = record();
      return;
    case 'prepare':
      scene.record = {
        ...(scene.record ?? record({ result: false })),
        ending: { signed: signed(action.ending), outcome: pending, reason: action.reason, failures: action.failures },
      };
      scene.signed.add(`sig-${action.ending}`);
      return;
    case 'broadcast': {
      // It lands: the run closes, and the job carries the result (finish) or is stopped (quit).
      const kind = action.signed.kind;
      if (scene.chain.run !== undefined) scene.sent.push(kind);
      scene.chain = chain({ job: kind === 'quit' ? jobView('STOPPED') : FINISHED });
      if (scene.record?.ending !== undefined) scene.record = { ...scene.record, ending: { ...scene.record.ending, outcome: landed } };
      return;
    }
    case 'releaseRun': {
      // The store's own rule: a release it refuses leaves the record, and the node never rejoins.
      const kept = scene.record;
      if (kept !== undefined) {
        const refusal = releaseRefusal(kept, { outcome: kept.ending?.outcome, job: jobOf(scene.chain, kept.jobAddress) });
        if (refusal !== undefined) throw new Error(`the store refused the release the decision asked for: ${refusal}`);
      }
      delete scene.record;
      scene.executor = { state: 'idle' };
      return;
    }
    case 'none':
    case 'joinQueue':
      return;
    default:
      throw new Error(`unexpected action ${action.kind} in this scene`);
  }
}

/** Reconciles until the node joins again; the status write of reconcile `kill` is lost with the process. */
function play(executor: ExecutorState, kill: number): { scene: Scene; steps: number } {
  const scene: Scene = { status: BUSY, chain: HOLDING, executor, sent: [], signed: new Set() };
  return { scene, steps: untilJoined(scene, kill) };
}

/** Reconciles `scene` until the node joins again (how many reconciles it took); see play. */
function untilJoined(scene: Scene, kill: number): number {
  for (let step = 0; step < 12; step++) {
    const decision = decide(
      world({
        status: scene.status,
        chain: scene.chain,
        executor: scene.executor,
        ...(scene.record === undefined ? {} : { record: scene.record }),
      }),
      SETTINGS,
    );
    perform(scene, decision.action);
    if (decision.action.kind === 'joinQueue') return step + 1;
    // A restart loses the status write and the executor's memory; the record and the chain stay.
    if (step === kill) scene.executor = scene.record === undefined ? scene.executor : { state: 'idle' };
    else scene.status = decision.status;
  }
  throw new Error('the node never joined again');
}

describe('decide: killed at any instant, a run gets exactly one ending, counted once', () => {
  const finishSteps = play(ended('success'), -1).steps;
  test('without a kill: pin, sign, send, count, release, join', () => assert.equal(finishSteps, 6));
  for (let kill = 0; kill < finishSteps - 1; kill++) {
    test(`a finished flow, killed after the action of reconcile ${kill + 1}`, () => {
      const { scene } = play(ended('success'), kill);
      assert.deepEqual(scene.sent, ['finish'], 'one finish reached the chain');
      assert.deepEqual([...scene.signed], ['sig-finish'], 'one finish was signed, never a quit or a second one');
      assert.equal(scene.status.jobsCompleted, 5, 'counted exactly once');
      assert.deepEqual([scene.status.jobsFailed, scene.status.jobsQuit], [1, 2], 'counted as completed only');
      assert.equal(scene.status.earningsBaseUnits, (5n + EARNED).toString(), 'earned exactly once');
      assert.deepEqual([scene.status.currentRun, scene.status.startedAt], [undefined, undefined], 'the run no longer named');
      assert.equal(scene.record, undefined, 'the record is released');
    });
  }
  const evicted: ExecutorState = {
    state: 'cluster-failure',
    jobAddress: job,
    runAddress: run,
    opId: 'main',
    cause: 'evicted',
    message: 'evicted',
  };
  const quitSteps = play(evicted, -1).steps;
  for (let kill = 0; kill < quitSteps - 1; kill++) {
    test(`a cluster failure, killed after the action of reconcile ${kill + 1}`, () => {
      const { scene } = play(evicted, kill);
      assert.deepEqual(scene.sent, ['quit'], 'one quit reached the chain, never a finish');
      assert.deepEqual([...scene.signed], ['sig-quit']);
      assert.equal(scene.status.jobsQuit, 3, 'counted exactly once as quit');
      assert.deepEqual(
        [scene.status.jobsCompleted, scene.status.jobsFailed, scene.status.earningsBaseUnits],
        [4, 1, '5'],
        'nothing completed, failed or earned',
      );
      assert.deepEqual([scene.status.currentRun, scene.status.startedAt], [undefined, undefined], 'the run no longer named');
      assert.equal(scene.record, undefined, 'the record is released');
    });
  }
});

describe('decide: a release the decision asks for is one the run record store grants', () => {
  // Quit broadcast, the agent killed; it restarts after the blockhash expired, against an RPC that
  // keeps no history: the outcome is unknown for good, but the run is closed, so nothing can ever be
  // signed for it again and the record must go, or the node never rejoins.
  const stuck = (): Scene => ({
    status: BUSY,
    chain: chain({ job: jobView('QUEUED') }),
    executor: { state: 'idle' },
    record: record({ result: false, ending: 'quit', outcome: unknown }),
    sent: [],
    signed: new Set(['sig-quit']),
  });
  const steps = 3;
  test('a quit of unknown fate whose run is closed: counted as quit, released, and the node rejoins', () => {
    const scene = stuck();
    assert.equal(untilJoined(scene, -1), steps, 'count, release, join');
    assert.equal(scene.record, undefined, 'the record is released');
    assert.equal(scene.status.jobsQuit, 3, 'counted once as quit');
    assert.deepEqual([...scene.signed], ['sig-quit'], 'nothing new signed');
  });
  for (let kill = 0; kill < steps - 1; kill++) {
    test(`the same, killed again after the action of reconcile ${kill + 1}`, () => {
      const scene = stuck();
      untilJoined(scene, kill);
      assert.equal(scene.record, undefined);
      assert.equal(scene.status.jobsQuit, 3, 'counted exactly once');
    });
  }

  test('whatever the ending, its outcome and the job, every release asked for is granted', () => {
    const jobs: (JobView | undefined)[] = [RUNNING, FINISHED, ENDED, jobView('QUEUED'), jobView('STOPPED'), undefined];
    const outcomes: EndingOutcome[] = [landed, pending, expired, failedOnChain, unknown, { outcome: 'unreadable', error: 'rpc down' }];
    let unsettledReleases = 0;
    for (const kind of ['finish', 'complete', 'quit'] as const)
      for (const outcome of outcomes)
        for (const read of jobs)
          for (const status of [BUSY, counted]) {
            const held = read?.status === 'RUNNING' ? { run: runView() } : {};
            const snapshot = chain({ ...held, ...(read === undefined ? {} : { job: read }) });
            const kept = record({ ending: kind, outcome });
            const decision = decide(world({ status, chain: snapshot, record: kept }), SETTINGS);
            if (decision.action.kind !== 'releaseRun') continue;
            const refusal = releaseRefusal(kept, { outcome, job: jobOf(snapshot, job) });
            assert.equal(refusal, undefined, `${kind}, ${outcome.outcome}, job ${read?.status ?? 'gone'}`);
            if (outcome.outcome === 'pending' || outcome.outcome === 'unknown') unsettledReleases++;
          }
    assert.ok(unsettledReleases > 0, 'some releases come while the outcome is still pending or unknown');
  });
});
