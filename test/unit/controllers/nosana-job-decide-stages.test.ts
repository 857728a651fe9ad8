// The transitions of a NosanaJob outside "follow" as tables, one per stage: the status so far and
// what was read → the phase and reason shown, the one action, when to look again and the Events
// recorded. Each row's reason is its specification; together they cover every post, settle, ended
// and delete row of decide.ts's table, and every line of stageOf's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import type { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION, NOSANA_JOB_FINALIZER, PENDING_POST_ANNOTATION } from '../../../src/api/annotations.ts';
import type { NosanaJobObject, NosanaJobStatus } from '../../../src/api/crds/nosana-job.ts';
import { validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import type { NetworkName } from '../../../src/chain/addresses.ts';
import { JOB_STATE, JOB_TYPE_DISABLED, MARKET_QUEUE_CAPACITY, QUEUE_TYPE } from '../../../src/chain/accounts.ts';
import type { MarketAccount } from '../../../src/chain/accounts.ts';
import type { JobStatus, JobView, PendingPost } from '../../../src/chain/jobs-client.ts';
import { LAMPORTS_PER_SOL, listCharge } from '../../../src/chain/money.ts';
import { decide, stageOf } from '../../../src/controllers/nosana-job/decide.ts';
import type { Stage } from '../../../src/controllers/nosana-job/decide.ts';
import type {
  Decision,
  DecisionSettings,
  DeleteWorld,
  JobAction,
  PostWorld,
  SettleWorld,
  World,
} from '../../../src/controllers/nosana-job/decision.ts';
import { refusal } from '../../../src/controllers/nosana-job/refusal.ts';
import { applyPhase } from '../../../src/controllers/phase.ts';
import { findCondition } from '../../../src/runtime/conditions.ts';
import { nosanaJob } from '../../support/fake-kube.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const ADDRESS = Keypair.generate().publicKey;
const OTHER = Keypair.generate().publicKey.toBase58();
const MARKET = Keypair.generate().publicKey;
const NODE = Keypair.generate().publicKey;
const RUN = Keypair.generate().publicKey;
const WALLET = Keypair.generate().publicKey.toBase58();

const SETTINGS: DecisionSettings = {
  now: NOW,
  generation: 1,
  retries: 1,
  deadNodeGraceMs: 120_000,
  resultWaitMs: 300_000,
  pollIntervalMs: 5_000,
  logTailMaxBytes: 2048,
  network: 'localnet',
};

// What the deciders ask of the acting layer, named once (decide-settle.ts, decide-delete.ts, refusal.ts).
const NEXT_STAGE_MS = 500;
const POSTING_POLL_MS = 1_000;
const FINALITY_POLL_MS = 2_000;
const RECHECK_MS = 300_000;

const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const secondsAgo = (seconds: number): string => iso(new Date(NOW.getTime() - seconds * 1000));
const address = ADDRESS.toBase58();

function job(status: JobStatus, change: { price?: bigint; timeout?: bigint } = {}): JobView {
  const state = status === 'COMPLETED' ? JOB_STATE.done : status === 'STOPPED' ? JOB_STATE.stopped : JOB_STATE.queued;
  const view: JobView = {
    address: ADDRESS,
    status,
    account: {
      ipfsJob: new Uint8Array(32).fill(1),
      ipfsResult: new Uint8Array(32),
      market: MARKET,
      node: NODE,
      payer: ADDRESS as PublicKey,
      price: change.price ?? 10n,
      project: ADDRESS,
      state,
      timeEnd: 0n,
      timeStart: 0n,
      timeout: change.timeout ?? 600n,
    },
  };
  if (status === 'RUNNING') view.run = { address: RUN, account: { job: ADDRESS, node: NODE, payer: NODE, state: 0, time: 0n } };
  return view;
}

/** The checks every decision answers to, whatever its stage. */
interface Want {
  action: JobAction['kind'];
  ending?: string;
  phase: NosanaJobStatus['phase'];
  ready?: string;
  requeueAfterMs?: number;
  backoff?: true;
  events: string[];
  forget?: boolean;
}

/** Decides `world` on a copy-checked status and asserts what every row of every table asserts. */
function decided(status: NosanaJobStatus, world: World, settings: Partial<DecisionSettings> | undefined, want: Want): Decision {
  const before = structuredClone(status);
  const decision = decide(status, world, { ...SETTINGS, ...settings });
  assert.deepEqual(status, before, 'the input status is not changed');
  assert.equal(decision.action.kind, want.action);
  assert.equal('ending' in decision.action ? decision.action.ending : undefined, want.ending);
  assert.equal(decision.status.phase, want.phase);
  if (want.ready !== undefined) assert.equal(findCondition(decision.status.conditions, 'Ready')?.reason, want.ready);
  assert.equal(decision.requeueAfterMs, want.requeueAfterMs, 'requeueAfterMs');
  assert.equal(decision.backoff, want.backoff, 'backoff');
  assert.deepEqual(
    decision.events.map((event) => event.reason),
    want.events,
  );
  assert.equal(decision.forget, want.forget ?? false);
  return decision;
}

// ---- post --------------------------------------------------------------------------------------

const HELLO = {
  version: '0.1',
  type: 'container',
  ops: [{ type: 'container/run', id: 'hello', args: { image: 'ubuntu', cmd: 'echo hello' } }],
};
const WITH_CREDENTIALS = {
  version: '0.1',
  type: 'container',
  ops: [
    {
      type: 'container/run',
      id: 'hello',
      args: { image: 'private/image', authentication: { docker: { username: 'me', password: 'hunter2' } } },
    },
  ],
};

function definition(raw: unknown): Exclude<PostWorld['definition'], { refused: true }> {
  const result = validateJobDefinition(raw, { strictness: 'strict' });
  assert.ok(result.ok && result.definition !== undefined, JSON.stringify(result.problems));
  return { raw, definition: result.definition };
}

function marketAccount(overrides: Partial<MarketAccount> = {}): MarketAccount {
  return {
    authority: MARKET,
    jobExpiration: 86_400n,
    jobPrice: 100n,
    jobTimeout: 3_600n,
    jobType: 0,
    vault: MARKET,
    vaultBump: 255,
    nodeAccessKey: MARKET,
    nodeXnosMinimum: 0n,
    queueType: QUEUE_TYPE.empty,
    queue: [],
    ...overrides,
  };
}

function market(overrides: Partial<MarketAccount> = {}, network: NetworkName = 'localnet'): NonNullable<PostWorld['market']> {
  return { address: MARKET.toBase58(), view: { address: MARKET, account: marketAccount(overrides) }, network };
}

/** What a post of the default market takes on the localnet: 100 base units/s × 3600 s. */
const CHARGE = listCharge('localnet', 100n, 3_600n);
const PLENTY = { lamports: LAMPORTS_PER_SOL, nos: 1_000n * CHARGE };
const ready = (change: Partial<Omit<PostWorld, 'stage'>> = {}): Omit<PostWorld, 'stage'> => ({
  definition: definition(HELLO),
  market: market(),
  wallet: WALLET,
  balances: PLENTY,
  ...change,
});
const fullQueue = Array.from({ length: MARKET_QUEUE_CAPACITY }, () => Keypair.generate().publicKey);

interface PostRow {
  reason: string;
  status: NosanaJobStatus;
  world: Omit<PostWorld, 'stage'>;
  settings?: Partial<DecisionSettings>;
  want: Want & {
    /** The LowBalance condition's status; undefined: not set. */
    lowBalance?: 'True' | 'False' | undefined;
    post?: { timeout: bigint; charge: bigint; attempt: number };
    found?: { binding: number };
  };
}

const postRows: PostRow[] = [
  {
    reason: 'the definition is refused: Pending with its reason, retried only when the spec is edited',
    status: {},
    world: { definition: refusal('InvalidDefinition', 'ops[0].args.image is missing', 'edit') },
    want: { action: 'none', phase: 'Pending', ready: 'InvalidDefinition', events: ['InvalidDefinition'], lowBalance: undefined },
  },
  {
    reason: 'the definition cannot be read yet (its ConfigMap is missing): Pending, retried with backoff',
    status: {},
    world: { definition: refusal('DefinitionUnavailable', 'configmap default/defs not found', 'backoff') },
    want: { action: 'none', phase: 'Pending', ready: 'DefinitionUnavailable', backoff: true, events: ['DefinitionUnavailable'] },
  },
  {
    reason: 'a definition carrying credentials is refused (it would be published on IPFS), before the market is even looked at',
    status: {},
    world: { definition: definition(WITH_CREDENTIALS) },
    want: { action: 'none', phase: 'Pending', ready: 'PublicCredentials', events: ['PublicCredentials'] },
  },
  {
    reason: 'a definition carrying credentials is posted when spec.allowPublicCredentials says so',
    status: {},
    world: ready({ definition: definition(WITH_CREDENTIALS) }),
    settings: { allowPublicCredentials: true },
    want: { action: 'post', phase: undefined, events: [], post: { timeout: 3_600n, charge: CHARGE, attempt: 0 } },
  },
  {
    reason: 'the market cannot be resolved: Pending/MarketNotFound, retried with backoff',
    status: {},
    world: { definition: definition(HELLO), market: refusal('MarketNotFound', 'no market account at it', 'backoff') },
    want: { action: 'none', phase: 'Pending', ready: 'MarketNotFound', backoff: true, events: ['MarketNotFound'] },
  },
  {
    reason: 'the market was not read at all: Pending/Pending, retried with backoff',
    status: {},
    world: { definition: definition(HELLO) },
    want: { action: 'none', phase: 'Pending', ready: 'Pending', backoff: true, events: ['Pending'] },
  },
  {
    reason: 'the wallet is unusable: Pending/WalletUnavailable, retried with backoff',
    status: {},
    world: { definition: definition(HELLO), market: market(), wallet: refusal('WalletUnavailable', 'secret not found', 'backoff') },
    want: { action: 'none', phase: 'Pending', ready: 'WalletUnavailable', backoff: true, events: ['WalletUnavailable'] },
  },
  {
    reason: "the market's wallet is not lent to this namespace: Pending/WalletNotAllowed, rechecked now and then",
    status: {},
    world: { definition: definition(HELLO), market: market(), wallet: refusal('WalletNotAllowed', 'not allowed', 'recheck') },
    want: { action: 'none', phase: 'Pending', ready: 'WalletNotAllowed', requeueAfterMs: RECHECK_MS, events: ['WalletNotAllowed'] },
  },
  {
    reason: 'a job this object posted before it was recreated is on chain: recorded with its binding, nothing checked against money',
    status: {},
    world: { definition: definition(HELLO), market: market(), wallet: WALLET, found: { attempt: 2, job: job('QUEUED') } },
    want: { action: 'recordFound', phase: undefined, requeueAfterMs: POSTING_POLL_MS, events: ['PostFound'], found: { binding: 2 } },
  },
  {
    reason: 'the balances were not read: Pending/Pending, retried with backoff',
    status: {},
    world: ready({ balances: undefined }),
    want: { action: 'none', phase: 'Pending', ready: 'Pending', backoff: true, events: ['Pending'] },
  },
  {
    reason: 'the spend ledger cannot be read: SpendLimitReached (the limit cannot be checked), retried with backoff',
    status: {},
    world: ready({ daily: { error: 'configmap read timed out' } }),
    want: {
      action: 'none',
      phase: 'Pending',
      ready: 'SpendLimitReached',
      backoff: true,
      events: ['SpendLimitReached'],
      lowBalance: undefined,
    },
  },
  {
    reason: 'a disabled market would keep the deposit: Pending/MarketDisabled, rechecked now and then',
    status: {},
    world: ready({ market: market({ jobType: JOB_TYPE_DISABLED }) }),
    want: {
      action: 'none',
      phase: 'Pending',
      ready: 'MarketDisabled',
      requeueAfterMs: RECHECK_MS,
      events: ['MarketDisabled'],
      lowBalance: undefined,
    },
  },
  {
    reason: 'a job queue at capacity: Pending/MarketQueueFull, retried when nodes may have taken some',
    status: {},
    world: ready({ market: market({ queueType: QUEUE_TYPE.job, queue: fullQueue }) }),
    want: { action: 'none', phase: 'Pending', ready: 'MarketQueueFull', requeueAfterMs: 30_000, events: ['MarketQueueFull'] },
  },
  {
    reason: 'a post to a named node does not enter the full queue: posted',
    status: {},
    world: ready({ market: market({ queueType: QUEUE_TYPE.job, queue: fullQueue }) }),
    settings: { toNode: true },
    want: { action: 'post', phase: undefined, events: [], post: { timeout: 3_600n, charge: CHARGE, attempt: 0 } },
  },
  {
    reason: 'the deposit exceeds spec.maxCost by one base unit: Pending/OverBudget, rechecked (the price may fall)',
    status: {},
    world: ready(),
    settings: { maxCost: CHARGE - 1n },
    want: {
      action: 'none',
      phase: 'Pending',
      ready: 'OverBudget',
      requeueAfterMs: RECHECK_MS,
      events: ['OverBudget'],
      lowBalance: undefined,
    },
  },
  {
    reason: 'the deposit equals spec.maxCost: posted',
    status: {},
    world: ready(),
    settings: { maxCost: CHARGE },
    want: { action: 'post', phase: undefined, events: [], lowBalance: 'False', post: { timeout: 3_600n, charge: CHARGE, attempt: 0 } },
  },
  {
    reason: 'the wallet lacks NOS for the deposit: Pending/InsufficientFunds, LowBalance True, retried with backoff',
    status: {},
    world: ready({ balances: { lamports: LAMPORTS_PER_SOL, nos: CHARGE - 1n } }),
    want: {
      action: 'none',
      phase: 'Pending',
      ready: 'InsufficientFunds',
      backoff: true,
      events: ['InsufficientFunds'],
      lowBalance: 'True',
    },
  },
  {
    reason: 'the wallet lacks SOL for rent and fees: Pending/InsufficientFunds, LowBalance True, retried with backoff',
    status: {},
    world: ready({ balances: { lamports: 1_000n, nos: PLENTY.nos } }),
    want: {
      action: 'none',
      phase: 'Pending',
      ready: 'InsufficientFunds',
      backoff: true,
      events: ['InsufficientFunds'],
      lowBalance: 'True',
    },
  },
  {
    reason:
      "the deposit would pass the market's dailySpendLimit: Pending/SpendLimitReached, retried when the oldest spend leaves the window",
    status: {},
    world: ready({ daily: { limit: CHARGE, spends: [{ at: new Date(NOW.getTime() - 3_600_000), amount: 1n }] } }),
    want: {
      action: 'none',
      phase: 'Pending',
      ready: 'SpendLimitReached',
      requeueAfterMs: 23 * 3_600_000 + 1_000,
      events: ['SpendLimitReached'],
      lowBalance: 'False',
    },
  },
  {
    reason: 'a deposit larger than the dailySpendLimit on its own: Pending/SpendLimitReached, rechecked now and then',
    status: {},
    world: ready({ daily: { limit: CHARGE - 1n, spends: [] } }),
    want: { action: 'none', phase: 'Pending', ready: 'SpendLimitReached', requeueAfterMs: RECHECK_MS, events: ['SpendLimitReached'] },
  },
  {
    reason: 'a deposit that exactly fills the dailySpendLimit: posted',
    status: {},
    world: ready({ daily: { limit: CHARGE, spends: [] } }),
    want: { action: 'post', phase: undefined, events: [], post: { timeout: 3_600n, charge: CHARGE, attempt: 0 } },
  },
  {
    reason: 'the wallet can pay this post but not another: posted, LowBalance True',
    status: {},
    world: ready({ balances: { lamports: LAMPORTS_PER_SOL, nos: 2n * CHARGE - 1n } }),
    want: { action: 'post', phase: undefined, events: [], lowBalance: 'True', post: { timeout: 3_600n, charge: CHARGE, attempt: 0 } },
  },
  {
    reason: "otherwise: posted for the market's timeout and charge, LowBalance False, the first binding attempt",
    status: {},
    world: ready(),
    want: { action: 'post', phase: undefined, events: [], lowBalance: 'False', post: { timeout: 3_600n, charge: CHARGE, attempt: 0 } },
  },
  {
    reason: "spec.timeout replaces the market's, and a mainnet post is charged with the network fee",
    status: {},
    world: ready({ market: market({}, 'mainnet') }),
    settings: { wantedTimeout: 1_200n },
    want: {
      action: 'post',
      phase: undefined,
      events: [],
      post: { timeout: 1_200n, charge: listCharge('mainnet', 100n, 1_200n), attempt: 0 },
    },
  },
  {
    reason: 'a repost binds one past the highest attempt bound so far',
    status: {
      attempts: [
        { jobAddress: OTHER, binding: 0, outcome: 'NodeQuit' },
        { jobAddress: Keypair.generate().publicKey.toBase58(), binding: 1, outcome: 'NodeQuit' },
      ],
    },
    world: ready(),
    want: { action: 'post', phase: undefined, events: [], post: { timeout: 3_600n, charge: CHARGE, attempt: 2 } },
  },
  {
    reason: 'attempts recorded without a binding count by their place in the list',
    status: { attempts: [{ jobAddress: OTHER }, { jobAddress: Keypair.generate().publicKey.toBase58() }, { jobAddress: address }] },
    world: ready(),
    want: { action: 'post', phase: undefined, events: [], post: { timeout: 3_600n, charge: CHARGE, attempt: 3 } },
  },
];

describe('decide: a NosanaJob with nothing posted yet (post)', () => {
  for (const row of postRows) {
    test(row.reason, () => {
      const decision = decided(row.status, { stage: 'post', ...row.world }, row.settings, row.want);
      if ('lowBalance' in row.want) assert.equal(findCondition(decision.status.conditions, 'LowBalance')?.status, row.want.lowBalance);
      if (row.want.post !== undefined) {
        assert.deepEqual(decision.action, { kind: 'post', ...row.want.post });
        assert.equal(decision.status.marketAddress, MARKET.toBase58());
        assert.equal(decision.status.priceBaseUnits, '100');
      }
      if (row.want.found !== undefined) {
        assert.deepEqual(decision.action.kind === 'recordFound' ? decision.action.found : undefined, row.world.found);
        assert.equal(decision.status.jobAddress, address);
        const attempt = decision.status.attempts?.find((entry) => entry.jobAddress === address);
        assert.equal(attempt?.binding, row.want.found.binding);
        assert.equal(attempt?.postedAt, iso(NOW));
      }
    });
  }
});

// ---- settle ------------------------------------------------------------------------------------

const PREPARED_AT = '2026-06-01T11:59:30.123Z';
const PENDING: PendingPost = {
  jobAddress: address,
  runAddress: RUN.toBase58(),
  signature: '5j7s1QjmRKFuDbCWMRVRNibSvSAwpdNNXXK3eEYTsMnkdNsJBVZYQjyF2EiUu3HGrDT1MKz7SDzqM5CB6K6tvHEm',
  lastValidBlockHeight: 1_000,
  preparedSlot: 900,
  transaction: 'AQID',
  preparedAt: PREPARED_AT,
};
const POSTING: NosanaJobStatus = applyPhase<NosanaJobStatus>(
  'NosanaJob',
  { pendingPost: PENDING },
  'Posting',
  'Posting',
  'posting',
  1,
  NOW,
);
/** A post this resource saw land and took back for its price. */
const TAKEN_BACK = applyPhase<NosanaJobStatus>(
  'NosanaJob',
  { attempts: [{ jobAddress: address, postedAt: secondsAgo(40), binding: 3, outcome: 'PriceAboveMaxCost', endedAt: secondsAgo(20) }] },
  'Stopped',
  'PriceAboveMaxCost',
  'taken back',
  1,
  NOW,
);
const UNKNOWN = { outcome: 'unknown', reason: 'the RPC keeps no transaction history' } as const;

interface SettleRow {
  reason: string;
  status: NosanaJobStatus;
  world: Omit<SettleWorld, 'stage' | 'network'> & { network?: SettleWorld['network'] };
  settings?: Partial<DecisionSettings>;
  want: Want & {
    /** status.pendingPost afterwards. */
    pendingPost?: PendingPost | undefined;
    /** clearRecord: the spend taken back. */
    takeBackSpend?: string | undefined;
    /** land, delist or end: the job recorded, and its attempt. */
    landed?: { postedAt: string; binding: number; outcome?: string };
    message?: RegExp;
  };
}

const settleRows: SettleRow[] = [
  {
    reason: 'no record can be used and nobody confirmed: Posting/PostOutcomeUnknown, nothing moves until a person decides',
    status: POSTING,
    world: { record: { why: 'not JSON' } },
    want: { action: 'none', phase: 'Posting', ready: 'PostOutcomeUnknown', events: ['PostOutcomeUnknown'], message: /not JSON/ },
  },
  {
    reason: 'no record can be used and a person confirmed landed: not acted on, there is no job address to follow',
    status: POSTING,
    world: { record: { why: 'not JSON' }, confirm: 'landed' },
    want: {
      action: 'none',
      phase: 'Posting',
      ready: 'PostOutcomeUnknown',
      events: ['PostOutcomeUnknown'],
      message: /confirm-post=landed cannot be acted on: the record names no readable job address/,
    },
  },
  {
    reason: 'no record can be used and a person confirmed not-landed: cleared, no spend to take back without an address',
    status: POSTING,
    world: { record: { why: 'not JSON' }, confirm: 'not-landed' },
    want: {
      action: 'clearRecord',
      phase: 'Pending',
      ready: 'Pending',
      requeueAfterMs: POSTING_POLL_MS,
      events: ['PostConfirmed'],
      takeBackSpend: undefined,
      pendingPost: undefined,
    },
  },
  {
    reason: 'the annotation is garbled but the copy in status verifies: the annotation is restored, nothing else changes',
    status: POSTING,
    world: { record: { pending: PENDING, garbled: 'Unexpected token' } },
    want: { action: 'restoreRecord', phase: 'Posting', ready: 'Posting', requeueAfterMs: NEXT_STAGE_MS, events: ['RecordRestored'] },
  },
  {
    reason: 'whose record it is cannot be told now: Posting/Posting, retried with backoff',
    status: POSTING,
    world: { record: { pending: PENDING } },
    want: { action: 'none', phase: 'Posting', ready: 'Posting', backoff: true, events: [], message: /cannot be told yet/ },
  },
  {
    reason: 'the record is not this object’s: cleared without touching the spend ledger',
    status: POSTING,
    world: { record: { pending: PENDING }, own: false },
    want: {
      action: 'clearRecord',
      phase: 'Posting',
      requeueAfterMs: POSTING_POLL_MS,
      events: ['RecordUnproven'],
      takeBackSpend: undefined,
      pendingPost: undefined,
    },
  },
  {
    reason: 'the outcome cannot be read now: Posting/Posting, retried with backoff, the record kept',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: { readError: 'rpc unavailable' } },
    want: {
      action: 'none',
      phase: 'Posting',
      ready: 'Posting',
      backoff: true,
      events: [],
      pendingPost: PENDING,
      message: /rpc unavailable/,
    },
  },
  {
    reason: 'the outcome was not read: Posting/Posting, retried with backoff',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true },
    want: { action: 'none', phase: 'Posting', ready: 'Posting', backoff: true, events: [], message: /not read/ },
  },
  {
    reason: 'still pending: the same bytes are sent again, Posting/Posting, and the verified record is copied into status',
    status: {},
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'pending' } },
    want: { action: 'rebroadcast', phase: 'Posting', ready: 'Posting', requeueAfterMs: POSTING_POLL_MS, events: [], pendingPost: PENDING },
  },
  {
    reason: 'failed on chain: cleared with its spend taken back, Pending/Pending, a new post after a backoff',
    status: POSTING,
    world: {
      record: { pending: PENDING },
      own: true,
      outcome: { outcome: 'failed', error: undefined, detail: 'custom program error 0x1' },
    },
    want: {
      action: 'clearRecord',
      phase: 'Pending',
      ready: 'Pending',
      backoff: true,
      events: ['PostFailed'],
      takeBackSpend: address,
      pendingPost: undefined,
      message: /custom program error 0x1/,
    },
  },
  {
    reason: 'never landed: cleared with its spend taken back, Pending/Pending, a new post soon',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'never-landed' } },
    want: {
      action: 'clearRecord',
      phase: 'Pending',
      ready: 'Pending',
      requeueAfterMs: POSTING_POLL_MS,
      events: ['PostExpired'],
      takeBackSpend: address,
      pendingPost: undefined,
    },
  },
  {
    reason: 'landed: the job address is recorded, the record leaves status, an attempt posted when the post was prepared',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'landed', slot: 901 } },
    want: {
      action: 'land',
      phase: 'Posting',
      requeueAfterMs: NEXT_STAGE_MS,
      events: ['Posted'],
      pendingPost: undefined,
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0 },
    },
  },
  {
    reason: 'landed after earlier attempts: its attempt binds one past the highest',
    status: { ...POSTING, attempts: [{ jobAddress: OTHER, binding: 4, outcome: 'NodeQuit' }] },
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'landed' }, landed: job('QUEUED') },
    want: {
      action: 'land',
      phase: 'Posting',
      requeueAfterMs: NEXT_STAGE_MS,
      events: ['Posted'],
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 5 },
    },
  },
  {
    reason: 'landed queued within spec.maxCost: land',
    status: POSTING,
    world: {
      record: { pending: PENDING },
      own: true,
      outcome: { outcome: 'landed' },
      landed: job('QUEUED', { price: 10n, timeout: 600n }),
    },
    settings: { maxCost: 6_000n },
    want: {
      action: 'land',
      phase: 'Posting',
      requeueAfterMs: NEXT_STAGE_MS,
      events: ['Posted'],
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0 },
    },
  },
  {
    reason: 'landed queued above spec.maxCost: delisted at once, Stopped/PriceAboveMaxCost, the intent recorded',
    status: POSTING,
    world: {
      record: { pending: PENDING },
      own: true,
      outcome: { outcome: 'landed' },
      landed: job('QUEUED', { price: 1_000n, timeout: 600n }),
    },
    settings: { maxCost: 599_999n },
    want: {
      action: 'delist',
      ending: 'PriceAboveMaxCost',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
      forget: true,
      pendingPost: undefined,
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0, outcome: 'PriceAboveMaxCost' },
      message: /taken back at once \(delisted\)/,
    },
  },
  {
    reason: 'landed running above spec.maxCost: ended at once, Stopped/PriceAboveMaxCost, the intent recorded',
    status: POSTING,
    world: {
      record: { pending: PENDING },
      own: true,
      outcome: { outcome: 'landed' },
      landed: job('RUNNING', { price: 1_000n, timeout: 600n }),
    },
    settings: { maxCost: 599_999n },
    want: {
      action: 'end',
      ending: 'PriceAboveMaxCost',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
      forget: true,
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0, outcome: 'PriceAboveMaxCost' },
      message: /taken back at once \(ended\)/,
    },
  },
  {
    reason: "the landed price is checked with the network's fee: within spec.maxCost as a deposit, above it on mainnet",
    status: POSTING,
    world: {
      network: 'mainnet',
      record: { pending: PENDING },
      own: true,
      outcome: { outcome: 'landed' },
      landed: job('QUEUED', { price: 10n, timeout: 600n }),
    },
    settings: { maxCost: 6_000n },
    want: {
      action: 'delist',
      ending: 'PriceAboveMaxCost',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
      forget: true,
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0, outcome: 'PriceAboveMaxCost' },
    },
  },
  {
    reason: 'landed and already completed: no price check applies, land',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'landed' }, landed: job('COMPLETED', { price: 1_000n }) },
    settings: { maxCost: 1n },
    want: {
      action: 'land',
      phase: 'Posting',
      requeueAfterMs: NEXT_STAGE_MS,
      events: ['Posted'],
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0 },
    },
  },
  {
    reason: 'taken back for its price before and still queued (the delist did not go through): delisted again, whatever the price now',
    status: applyPhase<NosanaJobStatus>(
      'NosanaJob',
      {
        attempts: [
          { jobAddress: address, postedAt: '2026-06-01T11:59:30Z', binding: 0, outcome: 'PriceAboveMaxCost', endedAt: secondsAgo(20) },
        ],
      },
      'Stopped',
      'PriceAboveMaxCost',
      'taken back',
      1,
      NOW,
    ),
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'landed' }, landed: job('QUEUED') },
    want: {
      action: 'delist',
      ending: 'PriceAboveMaxCost',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
      forget: true,
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0, outcome: 'PriceAboveMaxCost' },
    },
  },
  {
    reason:
      'taken back for its price and gone: land (the record becomes the job address), still Stopped/PriceAboveMaxCost, not announced as Posted',
    status: TAKEN_BACK,
    world: { record: { pending: PENDING }, own: true, outcome: { outcome: 'landed' } },
    want: {
      action: 'land',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
      landed: { postedAt: secondsAgo(40), binding: 3, outcome: 'PriceAboveMaxCost' },
    },
  },
  {
    reason: 'taken back before and the RPC no longer knows the post: it is known to have landed; a job still queued is delisted again',
    status: TAKEN_BACK,
    world: { record: { pending: PENDING }, own: true, takenBack: true, landed: job('QUEUED') },
    want: {
      action: 'delist',
      ending: 'PriceAboveMaxCost',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
      landed: { postedAt: secondsAgo(40), binding: 3, outcome: 'PriceAboveMaxCost' },
      forget: true,
    },
  },
  {
    reason: 'taken back before and missing, but finality does not agree yet: the record stays, look again at the finality pace',
    status: TAKEN_BACK,
    world: { record: { pending: PENDING }, own: true, takenBack: true, goneAtFinality: false },
    want: { action: 'none', phase: 'Stopped', ready: 'PriceAboveMaxCost', requeueAfterMs: FINALITY_POLL_MS, events: [] },
  },
  {
    reason: 'taken back before and closed at finality: land (the record becomes the job address), never asking a person',
    status: TAKEN_BACK,
    world: { record: { pending: PENDING }, own: true, takenBack: true, goneAtFinality: true },
    want: {
      landed: { postedAt: secondsAgo(40), binding: 3, outcome: 'PriceAboveMaxCost' },
      action: 'land',
      phase: 'Stopped',
      ready: 'PriceAboveMaxCost',
      requeueAfterMs: NEXT_STAGE_MS,
      events: [],
    },
  },
  {
    reason: 'unknown and nobody confirmed: Posting/PostOutcomeUnknown with the commands to settle it, nothing moves',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: UNKNOWN },
    settings: { name: 'hello' },
    want: {
      action: 'none',
      phase: 'Posting',
      ready: 'PostOutcomeUnknown',
      events: ['PostOutcomeUnknown'],
      pendingPost: PENDING,
      message: /kubectl annotate nosanajob\/hello nosana\.io\/confirm-post=landed/,
    },
  },
  {
    reason: 'unknown, confirmed landed by a person: land',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: UNKNOWN, confirm: 'landed', landed: job('QUEUED') },
    want: {
      action: 'land',
      phase: 'Posting',
      requeueAfterMs: NEXT_STAGE_MS,
      events: ['PostConfirmed', 'Posted'],
      pendingPost: undefined,
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0 },
    },
  },
  {
    reason: 'unknown, confirmed not-landed but the job account exists: the confirmation is refused and the job followed',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: UNKNOWN, confirm: 'not-landed', exists: true, landed: job('QUEUED') },
    want: {
      action: 'land',
      phase: 'Posting',
      requeueAfterMs: NEXT_STAGE_MS,
      events: ['ConfirmationRefused', 'Posted'],
      landed: { postedAt: '2026-06-01T11:59:30Z', binding: 0 },
    },
  },
  {
    reason: 'unknown, confirmed not-landed and no job account: cleared with its spend taken back, Pending/Pending',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: UNKNOWN, confirm: 'not-landed', exists: false },
    want: {
      action: 'clearRecord',
      phase: 'Pending',
      ready: 'Pending',
      requeueAfterMs: POSTING_POLL_MS,
      events: ['PostConfirmed'],
      takeBackSpend: address,
      pendingPost: undefined,
    },
  },
  {
    reason: 'unknown, with a confirmation that is neither landed nor not-landed: nothing moves, the message says why',
    status: POSTING,
    world: { record: { pending: PENDING }, own: true, outcome: UNKNOWN, confirm: 'maybe' },
    want: {
      action: 'none',
      phase: 'Posting',
      ready: 'PostOutcomeUnknown',
      events: ['PostOutcomeUnknown'],
      message: /The value "maybe" of nosana\.io\/confirm-post is not one of "landed" and "not-landed"\./,
    },
  },
];

describe('decide: a NosanaJob with a post in flight (settle)', () => {
  for (const row of settleRows) {
    test(row.reason, () => {
      const world: SettleWorld = { stage: 'settle', network: 'localnet', ...row.world };
      const decision = decided(row.status, world, row.settings, row.want);
      const { action } = decision;
      if ('pending' in action) assert.deepEqual(action.pending, PENDING);
      if (action.kind === 'clearRecord') assert.equal(action.takeBackSpend, row.want.takeBackSpend);
      if ('pendingPost' in row.want) assert.deepEqual(decision.status.pendingPost, row.want.pendingPost);
      if (row.want.message !== undefined) assert.match(findCondition(decision.status.conditions, 'Ready')?.message ?? '', row.want.message);
      const { landed } = row.want;
      if (landed !== undefined) {
        assert.equal(decision.status.jobAddress, address);
        assert.equal(decision.status.pendingPost, undefined, 'the record leaves status');
        const attempt = decision.status.attempts?.find((entry) => entry.jobAddress === address);
        assert.equal(attempt?.postedAt, landed.postedAt);
        assert.equal(attempt?.binding, landed.binding);
        assert.equal(attempt?.outcome, landed.outcome);
        if (landed.outcome !== undefined) assert.notEqual(attempt?.endedAt, undefined, 'an ending records when');
      } else {
        assert.equal(decision.status.jobAddress, row.status.jobAddress, 'no job address is recorded');
      }
    });
  }
});

// ---- ended -------------------------------------------------------------------------------------

const SUCCEEDED: NosanaJobStatus = {
  ...applyPhase<NosanaJobStatus>('NosanaJob', { jobAddress: address }, 'Succeeded', 'Succeeded', 'done', 1, NOW),
  observedGeneration: 1,
};

describe('decide: a NosanaJob whose job ended for good (ended)', () => {
  const rows: {
    reason: string;
    status: NosanaJobStatus;
    settings?: Partial<DecisionSettings>;
    want: Want & { observedGeneration: number };
  }[] = [
    {
      reason: 'a new spec is seen: observedGeneration follows it, nothing else changes',
      status: SUCCEEDED,
      settings: { generation: 4 },
      want: {
        action: 'none',
        phase: 'Succeeded',
        ready: 'Succeeded',
        events: [],
        observedGeneration: 4,
      },
    },
    {
      reason: 'no generation known: observedGeneration stays',
      status: SUCCEEDED,
      settings: { generation: undefined },
      want: { action: 'none', phase: 'Succeeded', ready: 'Succeeded', events: [], observedGeneration: 1 },
    },
  ];
  for (const row of rows) {
    test(row.reason, () => {
      const decision = decided(row.status, { stage: 'ended' }, row.settings, row.want);
      assert.equal(decision.status.observedGeneration, row.want.observedGeneration);
      assert.deepEqual(decision.status.conditions, row.status.conditions, 'the conditions are not touched');
    });
  }
});

// ---- delete ------------------------------------------------------------------------------------

const attempt = (change: Record<string, unknown> = {}) => ({ jobAddress: address, postedAt: secondsAgo(600), ...change });
const QUEUED: NosanaJobStatus = { phase: 'Queued', jobAddress: address, attempts: [attempt()] };

interface DeleteRow {
  reason: string;
  status: NosanaJobStatus;
  world: Omit<DeleteWorld, 'stage'>;
  settings?: Partial<DecisionSettings>;
  want: Want & { outcome?: string | undefined; missingSince?: string | undefined };
}

const deleteRows: DeleteRow[] = [
  {
    reason: 'no job: the finalizer goes',
    status: { phase: 'Pending' },
    world: {},
    want: { action: 'removeFinalizer', phase: 'Pending', events: [] },
  },
  {
    reason: 'deletionPolicy Orphan: the job is left on chain and the finalizer goes',
    status: QUEUED,
    world: { address, origin: 'posted', job: job('QUEUED'), market: { disabled: false, queued: true } },
    settings: { deletionPolicy: 'Orphan' },
    want: { action: 'removeFinalizer', phase: 'Queued', events: ['Orphaned'], forget: true, outcome: undefined },
  },
  {
    reason: 'an adopted job is never cancelled: left on chain, the finalizer goes',
    status: QUEUED,
    world: { address, origin: 'adopted', job: job('QUEUED'), market: { disabled: false, queued: true } },
    want: { action: 'removeFinalizer', phase: 'Queued', events: ['LeftOnChain'], forget: true, outcome: undefined },
  },
  {
    reason: 'an attempt marked adopted is never cancelled, whatever was read of its origin',
    status: { ...QUEUED, attempts: [attempt({ origin: 'adopted' })] },
    world: { address, origin: 'posted', job: job('RUNNING') },
    want: { action: 'removeFinalizer', phase: 'Queued', events: ['LeftOnChain'], forget: true, outcome: undefined },
  },
  {
    reason: 'whose live job it is cannot be told now: nothing is cancelled, CancelBlocked, looked at again',
    status: QUEUED,
    world: { address, job: job('QUEUED'), market: { disabled: false, queued: true } },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: SETTINGS.pollIntervalMs, events: ['CancelBlocked'], outcome: undefined },
  },
  {
    reason: 'completed, and a finalized read agrees: the finalizer goes',
    status: { ...QUEUED, phase: 'Running' },
    world: { address, origin: 'posted', job: job('COMPLETED'), settledAtFinality: true },
    want: { action: 'removeFinalizer', phase: 'Running', events: [], forget: true },
  },
  {
    reason: 'completed, but not yet at finality: looked at again at the pace of finality',
    status: { ...QUEUED, phase: 'Running' },
    world: { address, origin: 'posted', job: job('COMPLETED'), settledAtFinality: false },
    want: { action: 'none', phase: 'Running', requeueAfterMs: FINALITY_POLL_MS, events: [] },
  },
  {
    reason: 'gone, never seen ended here, missing for the first time: the miss is recorded, nothing else',
    status: QUEUED,
    world: { address, origin: 'posted', settledAtFinality: true },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [], missingSince: iso(NOW), outcome: undefined },
  },
  {
    reason: 'gone, missing for 30 s: not long enough, the first miss is kept',
    status: { ...QUEUED, attempts: [attempt({ missingSince: secondsAgo(30) })] },
    world: { address, origin: 'posted', settledAtFinality: true },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [], missingSince: secondsAgo(30) },
  },
  {
    reason: 'gone, missing for 61 s, and a finalized read agrees: the finalizer goes',
    status: { ...QUEUED, attempts: [attempt({ missingSince: secondsAgo(61) })] },
    world: { address, origin: 'posted', settledAtFinality: true },
    want: { action: 'removeFinalizer', phase: 'Queued', events: [], forget: true, missingSince: secondsAgo(61) },
  },
  {
    reason: 'gone, missing for 61 s, but still there at finality: looked at again',
    status: { ...QUEUED, attempts: [attempt({ missingSince: secondsAgo(61) })] },
    world: { address, origin: 'posted', settledAtFinality: false },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [] },
  },
  {
    reason: 'gone after this resource cancelled it (its attempt has an outcome), and a finalized read agrees: the finalizer goes',
    status: { ...QUEUED, attempts: [attempt({ outcome: 'Cancelled', endedAt: secondsAgo(5) })] },
    world: { address, origin: 'posted', settledAtFinality: true },
    want: { action: 'removeFinalizer', phase: 'Queued', events: [], forget: true, outcome: 'Cancelled', missingSince: undefined },
  },
  {
    reason: 'gone after this resource saw it end (a terminal phase for its job), and a finalized read agrees: the finalizer goes',
    status: { ...QUEUED, phase: 'Succeeded' },
    world: { address, origin: 'posted', settledAtFinality: true },
    want: { action: 'removeFinalizer', phase: 'Succeeded', events: [], forget: true, missingSince: undefined },
  },
  {
    reason: 'gone after this resource cancelled it, not yet at finality: looked at again',
    status: { ...QUEUED, attempts: [attempt({ outcome: 'Cancelled', endedAt: secondsAgo(5) })] },
    world: { address, origin: 'posted', settledAtFinality: false },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [], missingSince: undefined },
  },
  {
    reason: 'queued in a disabled market: it can never be delisted, left on chain, the finalizer goes',
    status: QUEUED,
    world: { address, origin: 'posted', job: job('QUEUED'), market: { disabled: true, queued: false } },
    want: { action: 'removeFinalizer', phase: 'Queued', events: ['LeftOnChain'], forget: true, outcome: undefined },
  },
  {
    reason: 'queued but not in the queue (a node is claiming it): nothing yet, looked at again',
    status: QUEUED,
    world: { address, origin: 'posted', job: job('QUEUED'), market: { disabled: false, queued: false } },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [], outcome: undefined },
  },
  {
    reason: 'queued, the market not read: nothing yet, looked at again',
    status: QUEUED,
    world: { address, origin: 'posted', job: job('QUEUED') },
    want: { action: 'none', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [], outcome: undefined },
  },
  {
    reason: 'queued in its queue: delisted, the intent Cancelled recorded first',
    status: QUEUED,
    world: { address, origin: 'posted', job: job('QUEUED'), market: { disabled: false, queued: true } },
    want: { action: 'delist', ending: 'Cancelled', phase: 'Queued', requeueAfterMs: FINALITY_POLL_MS, events: [], outcome: 'Cancelled' },
  },
  {
    reason: 'running: ended, the intent Cancelled recorded first',
    status: { ...QUEUED, phase: 'Running' },
    world: { address, origin: 'posted', job: job('RUNNING') },
    want: { action: 'end', ending: 'Cancelled', phase: 'Running', requeueAfterMs: FINALITY_POLL_MS, events: [], outcome: 'Cancelled' },
  },
  {
    reason: 'its node quit: recovered, the intent Cancelled recorded first',
    status: { ...QUEUED, phase: 'Running' },
    world: { address, origin: 'posted', job: job('STOPPED') },
    want: { action: 'recover', ending: 'Cancelled', phase: 'Running', requeueAfterMs: FINALITY_POLL_MS, events: [], outcome: 'Cancelled' },
  },
];

describe('decide: a NosanaJob being deleted (delete)', () => {
  for (const row of deleteRows) {
    test(row.reason, () => {
      const decision = decided(row.status, { stage: 'delete', ...row.world }, row.settings, row.want);
      const found = decision.status.attempts?.find((entry) => entry.jobAddress === address);
      if ('outcome' in row.want) assert.equal(found?.outcome, row.want.outcome);
      if (row.want.outcome === 'Cancelled' && !(row.status.attempts ?? []).some((entry) => entry.outcome === 'Cancelled'))
        assert.equal(found?.endedAt, iso(NOW), 'the intent says when');
      if ('missingSince' in row.want) assert.equal(found?.missingSince, row.want.missingSince);
    });
  }
});

// ---- stageOf -----------------------------------------------------------------------------------

const SPEC: NosanaJobObject['spec'] = {
  market: 'gpu',
  definition: HELLO as NosanaJobObject['spec']['definition'],
  deletionPolicy: 'Cancel',
  retries: 2,
  allowPublicCredentials: false,
};
const RECORD = JSON.stringify(PENDING);

function object(
  change: {
    deleting?: boolean;
    finalizers?: string[];
    annotations?: Record<string, string>;
    spec?: Partial<NosanaJobObject['spec']>;
    status?: NosanaJobStatus;
  } = {},
): NosanaJobObject {
  const made = nosanaJob('default', 'hello', { ...SPEC, ...change.spec });
  made.metadata = {
    ...made.metadata,
    finalizers: change.finalizers ?? [NOSANA_JOB_FINALIZER],
    ...(change.deleting === true ? { deletionTimestamp: NOW } : {}),
    ...(change.annotations === undefined ? {} : { annotations: change.annotations }),
  };
  if (change.status !== undefined) made.status = change.status;
  return made;
}

const shownAs = (phase: NonNullable<NosanaJobStatus['phase']>, reason: string): NosanaJobStatus =>
  applyPhase<NosanaJobStatus>('NosanaJob', { jobAddress: address }, phase, reason, 'shown', 1, NOW);
const followed = { [JOB_ADDRESS_ANNOTATION]: address };
const inFlight = { [PENDING_POST_ANNOTATION]: RECORD };

const stageRows: { reason: string; object: NosanaJobObject; jobAddress?: string; want: Stage }[] = [
  {
    reason: 'deleting, the finalizer gone: gone, whatever else it holds',
    object: object({ deleting: true, finalizers: [], annotations: inFlight }),
    want: { kind: 'gone' },
  },
  {
    reason: 'deleting, the finalizer gone, annotations lost: still gone (nothing is put back on an object going away)',
    object: object({ deleting: true, finalizers: ['other.io/keep'], status: { jobAddress: address } }),
    want: { kind: 'gone' },
  },
  {
    reason: 'the job-address annotation lost while status names the job: restore it',
    object: object({ status: shownAs('Queued', 'Queued') }),
    jobAddress: undefined,
    want: { kind: 'restore', annotations: { [JOB_ADDRESS_ANNOTATION]: address } },
  },
  {
    reason: 'both annotations lost while status names a post in flight: restore both, while deleting too',
    object: object({ deleting: true, status: { pendingPost: PENDING, jobAddress: address } }),
    want: { kind: 'restore', annotations: { [PENDING_POST_ANNOTATION]: RECORD, [JOB_ADDRESS_ANNOTATION]: address } },
  },
  {
    reason: 'an adopted job (spec.jobAddress) has no record to lose: followed',
    object: object({ spec: { jobAddress: address }, status: shownAs('Queued', 'Queued') }),
    jobAddress: address,
    want: { kind: 'follow' },
  },
  {
    reason: 'a post in flight: settle it',
    object: object({ annotations: inFlight }),
    want: { kind: 'settle', record: RECORD },
  },
  {
    reason: 'a post in flight with deletionPolicy Orphan, not deleting: still settled',
    object: object({ annotations: inFlight, spec: { deletionPolicy: 'Orphan' } }),
    want: { kind: 'settle', record: RECORD },
  },
  {
    reason: 'deleting with deletionPolicy Cancel and a post in flight: settled first (Cancel must know whether it landed)',
    object: object({ deleting: true, annotations: inFlight }),
    want: { kind: 'settle', record: RECORD },
  },
  {
    reason: 'deleting with deletionPolicy Orphan and a post in flight: delete (the chain is left alone)',
    object: object({ deleting: true, annotations: inFlight, spec: { deletionPolicy: 'Orphan' } }),
    want: { kind: 'delete' },
  },
  {
    reason: 'deleting with a job: delete',
    object: object({ deleting: true, annotations: followed, status: shownAs('Running', 'Running') }),
    jobAddress: address,
    want: { kind: 'delete' },
  },
  {
    reason: 'deleting with a job that ended for good: delete, not ended',
    object: object({ deleting: true, annotations: followed, status: shownAs('Succeeded', 'Succeeded') }),
    jobAddress: address,
    want: { kind: 'delete' },
  },
  {
    reason: 'a job that ended for good (Succeeded/Succeeded): ended',
    object: object({ annotations: followed, status: shownAs('Succeeded', 'Succeeded') }),
    jobAddress: address,
    want: { kind: 'ended' },
  },
  {
    reason: 'a job taken back for its price (Stopped/PriceAboveMaxCost): ended',
    object: object({ annotations: followed, status: shownAs('Stopped', 'PriceAboveMaxCost') }),
    jobAddress: address,
    want: { kind: 'ended' },
  },
  {
    reason: 'a job still running: followed',
    object: object({ annotations: followed, status: shownAs('Running', 'Running') }),
    jobAddress: address,
    want: { kind: 'follow' },
  },
  {
    reason: 'a job with no status yet: followed',
    object: object({ annotations: followed }),
    jobAddress: address,
    want: { kind: 'follow' },
  },
  {
    reason: 'no job and no post in flight: post',
    object: object(),
    want: { kind: 'post' },
  },
  {
    reason: 'no job, refused before: post again',
    object: object({ status: applyPhase<NosanaJobStatus>('NosanaJob', {}, 'Pending', 'InvalidDefinition', 'bad', 1, NOW) }),
    want: { kind: 'post' },
  },
];

describe('stageOf: the stage of a NosanaJob, from the object alone', () => {
  for (const row of stageRows) {
    test(row.reason, () => {
      const before = structuredClone(row.object);
      assert.deepEqual(stageOf(row.object, row.jobAddress), row.want);
      assert.deepEqual(row.object, before, 'the object is not changed');
    });
  }
});
