// What PubSub subscriptions notify, tick by tick, against hand-made views of the chain: each case
// starts a subscription on one view and lists what every later tick must send.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keypair, SystemProgram, type PublicKey } from '@solana/web3.js';
import bs58 from 'bs58';
import type { Commitment } from '../../src/localnet/chain/chain.ts';
import type { LedgerAccount } from '../../src/localnet/chain/program.ts';
import {
  MAX_SLOTS_PER_TICK,
  startSubscription,
  tick,
  type LandedTransaction,
  type PubsubChainView,
  type Subscription,
  type SubscriptionKind,
} from '../../src/localnet/chain/pubsub-subscriptions.ts';
import { RpcError } from '../../src/localnet/chain/rpc/rpc-error.ts';

const RENT_EXEMPT_EPOCH = 2 ** 64;
const PROGRAM = Keypair.generate().publicKey;
const OTHER_PROGRAM = Keypair.generate().publicKey;
const WALLET = Keypair.generate().publicKey.toBase58();
const MINT_A = Keypair.generate().publicKey;
const MINT_B = Keypair.generate().publicKey;
const HOLDER_1 = Keypair.generate().publicKey.toBase58();
const HOLDER_2 = Keypair.generate().publicKey.toBase58();
const SIGNATURE = bs58.encode(Buffer.alloc(64, 7));

function account(lamports: bigint, data = Buffer.alloc(0), owner: PublicKey = SystemProgram.programId): LedgerAccount {
  return { lamports, owner, data, executable: false };
}

/** 40 bytes whose first 32 are a mint, as a token account's data starts. */
function holding(mint: PublicKey, amount: number): LedgerAccount {
  const data = Buffer.alloc(40);
  mint.toBuffer().copy(data, 0);
  data.writeUInt32LE(amount, 32);
  return account(1_000n, data, PROGRAM);
}

/** A chain state: the processed slot, accounts per commitment (processed when only that is given), landed transactions. */
interface FakeChain {
  slot: number;
  accounts?: Record<string, LedgerAccount>;
  confirmedAccounts?: Record<string, LedgerAccount>;
  transactions?: Record<string, LandedTransaction>;
}

const FINALIZE_AFTER = 4;

function viewOf(chain: FakeChain): PubsubChainView {
  return {
    slotAt: (commitment: Commitment, processed = chain.slot) =>
      commitment === 'processed' ? processed : Math.max(0, processed - (commitment === 'confirmed' ? 1 : FINALIZE_AFTER)),
    accountsAt: (commitment) => {
      const accounts = new Map(
        Object.entries((commitment === 'processed' ? chain.accounts : chain.confirmedAccounts) ?? chain.accounts ?? {}),
      );
      return {
        get: (address) => accounts.get(typeof address === 'string' ? address : address.toBase58()),
        entries: () => accounts.entries(),
      };
    },
    transaction: (signature) => chain.transactions?.[signature],
  };
}

interface Case {
  reason: string;
  kind: SubscriptionKind;
  params: unknown[];
  start: FakeChain;
  ticks: FakeChain[];
  /** The results each tick sends. */
  want: unknown[][];
  /** Whether the subscription has ended after the last tick. */
  ended?: boolean;
}

function run(testCase: Case): { sent: unknown[][]; last: Subscription | undefined } {
  let subscription: Subscription | undefined = startSubscription(testCase.kind, testCase.params, viewOf(testCase.start));
  const sent: unknown[][] = [];
  for (const chain of testCase.ticks) {
    assert.ok(subscription, 'a tick after the subscription ended');
    const outcome = tick(subscription, viewOf(chain));
    sent.push(outcome.results);
    subscription = outcome.next;
  }
  return { sent, last: subscription };
}

const base64 = (data: Buffer) => [data.toString('base64'), 'base64'];

const CASES: Case[] = [
  // ---- accountSubscribe ----
  {
    reason: 'an account that does not change is never notified',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'base64' }],
    start: { slot: 10, accounts: { [WALLET]: account(5n) } },
    ticks: [
      { slot: 10, accounts: { [WALLET]: account(5n) } },
      { slot: 11, accounts: { [WALLET]: account(5n) } },
    ],
    want: [[], []],
  },
  {
    reason: 'a balance change is notified once, at the slot of the commitment, as getAccountInfo encodes it',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'base64' }],
    start: { slot: 10, accounts: { [WALLET]: account(5n) } },
    ticks: [
      { slot: 11, accounts: { [WALLET]: account(7n) } },
      { slot: 12, accounts: { [WALLET]: account(7n) } },
    ],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            data: base64(Buffer.alloc(0)),
            executable: false,
            lamports: 7,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: RENT_EXEMPT_EPOCH,
            space: 0,
          },
        },
      ],
      [],
    ],
  },
  {
    reason: 'a change seen only at processed is not notified to a confirmed subscription until it is confirmed',
    kind: 'account',
    params: [WALLET, { commitment: 'confirmed', encoding: 'base64' }],
    start: { slot: 10, accounts: { [WALLET]: account(5n) } },
    ticks: [
      { slot: 11, accounts: { [WALLET]: account(9n) }, confirmedAccounts: { [WALLET]: account(5n) } },
      { slot: 12, accounts: { [WALLET]: account(9n) } },
    ],
    want: [
      [],
      [
        {
          context: { slot: 11 },
          value: {
            data: base64(Buffer.alloc(0)),
            executable: false,
            lamports: 9,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: RENT_EXEMPT_EPOCH,
            space: 0,
          },
        },
      ],
    ],
  },
  {
    reason: 'a write that stores the same content is not a change',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'base64' }],
    start: { slot: 10, accounts: { [WALLET]: account(5n, Buffer.from([1, 2])) } },
    ticks: [{ slot: 11, accounts: { [WALLET]: account(5n, Buffer.from([1, 2])) } }],
    want: [[]],
  },
  {
    reason: 'a data change of the same length is a change',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'base58' }],
    start: { slot: 10, accounts: { [WALLET]: account(5n, Buffer.from([1, 2])) } },
    ticks: [{ slot: 11, accounts: { [WALLET]: account(5n, Buffer.from([1, 3])) } }],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            data: [bs58.encode(Buffer.from([1, 3])), 'base58'],
            executable: false,
            lamports: 5,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: RENT_EXEMPT_EPOCH,
            space: 2,
          },
        },
      ],
    ],
  },
  {
    reason: 'a deleted account is notified as the empty System account, as Agave does (web3.js cannot parse null)',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'base64' }],
    start: { slot: 10, accounts: { [WALLET]: account(5n, Buffer.from([1]), PROGRAM) } },
    ticks: [{ slot: 11, accounts: {} }],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            data: base64(Buffer.alloc(0)),
            executable: false,
            lamports: 0,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: 0,
            space: 0,
          },
        },
      ],
    ],
  },
  {
    reason: 'an account created after the subscription is notified',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'base64' }],
    start: { slot: 10, accounts: {} },
    ticks: [{ slot: 11, accounts: { [WALLET]: account(3n) } }],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            data: base64(Buffer.alloc(0)),
            executable: false,
            lamports: 3,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: RENT_EXEMPT_EPOCH,
            space: 0,
          },
        },
      ],
    ],
  },
  {
    reason: "without an encoding, data is legacy binary (a bare base58 string), and too much of it is Agave's error string",
    kind: 'account',
    params: [WALLET, { commitment: 'processed' }],
    start: { slot: 10, accounts: {} },
    ticks: [{ slot: 11, accounts: { [WALLET]: account(3n, Buffer.alloc(200, 1)) } }],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            data: 'error: data too large for bs58 encoding',
            executable: false,
            lamports: 3,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: RENT_EXEMPT_EPOCH,
            space: 200,
          },
        },
      ],
    ],
  },
  {
    reason: 'jsonParsed falls back to base64 for an account it cannot parse, as getAccountInfo does',
    kind: 'account',
    params: [WALLET, { commitment: 'processed', encoding: 'jsonParsed' }],
    start: { slot: 10, accounts: {} },
    ticks: [{ slot: 11, accounts: { [WALLET]: account(3n, Buffer.from([9])) } }],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            data: base64(Buffer.from([9])),
            executable: false,
            lamports: 3,
            owner: SystemProgram.programId.toBase58(),
            rentEpoch: RENT_EXEMPT_EPOCH,
            space: 1,
          },
        },
      ],
    ],
  },
  // ---- programSubscribe ----
  {
    reason: 'only accounts of the program that pass the memcmp filter are notified, each once per change',
    kind: 'program',
    params: [
      PROGRAM.toBase58(),
      { commitment: 'processed', encoding: 'base64', filters: [{ memcmp: { offset: 0, bytes: MINT_A.toBase58() } }] },
    ],
    start: { slot: 10, accounts: { [HOLDER_1]: holding(MINT_A, 1), [HOLDER_2]: holding(MINT_B, 1) } },
    ticks: [
      { slot: 11, accounts: { [HOLDER_1]: holding(MINT_A, 2), [HOLDER_2]: holding(MINT_B, 2) } },
      { slot: 12, accounts: { [HOLDER_1]: holding(MINT_A, 2), [HOLDER_2]: holding(MINT_B, 3) } },
    ],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            pubkey: HOLDER_1,
            account: {
              data: base64(holding(MINT_A, 2).data),
              executable: false,
              lamports: 1000,
              owner: PROGRAM.toBase58(),
              rentEpoch: RENT_EXEMPT_EPOCH,
              space: 40,
            },
          },
        },
      ],
      [],
    ],
  },
  {
    reason: 'a new matching account is notified; one that leaves the program is not',
    kind: 'program',
    params: [PROGRAM.toBase58(), { commitment: 'processed', encoding: 'base64', filters: [{ dataSize: 40 }] }],
    start: { slot: 10, accounts: { [HOLDER_1]: holding(MINT_A, 1) } },
    ticks: [{ slot: 11, accounts: { [HOLDER_1]: { ...holding(MINT_A, 1), owner: OTHER_PROGRAM }, [HOLDER_2]: holding(MINT_B, 5) } }],
    want: [
      [
        {
          context: { slot: 11 },
          value: {
            pubkey: HOLDER_2,
            account: {
              data: base64(holding(MINT_B, 5).data),
              executable: false,
              lamports: 1000,
              owner: PROGRAM.toBase58(),
              rentEpoch: RENT_EXEMPT_EPOCH,
              space: 40,
            },
          },
        },
      ],
    ],
  },
  {
    reason: 'an account that comes back into the program after leaving it is notified again',
    kind: 'program',
    params: [PROGRAM.toBase58(), { commitment: 'processed', encoding: 'base64' }],
    start: { slot: 10, accounts: { [HOLDER_1]: holding(MINT_A, 1) } },
    ticks: [
      { slot: 11, accounts: {} },
      { slot: 12, accounts: { [HOLDER_1]: holding(MINT_A, 1) } },
    ],
    want: [
      [],
      [
        {
          context: { slot: 12 },
          value: {
            pubkey: HOLDER_1,
            account: {
              data: base64(holding(MINT_A, 1).data),
              executable: false,
              lamports: 1000,
              owner: PROGRAM.toBase58(),
              rentEpoch: RENT_EXEMPT_EPOCH,
              space: 40,
            },
          },
        },
      ],
    ],
  },
  // ---- signatureSubscribe ----
  {
    reason: 'a signature that has not landed sends nothing and the subscription goes on',
    kind: 'signature',
    params: [SIGNATURE, { commitment: 'confirmed' }],
    start: { slot: 10 },
    ticks: [{ slot: 11 }, { slot: 12 }],
    want: [[], []],
    ended: false,
  },
  {
    reason: 'a signature is notified once it reaches the commitment, with its slot as context, and the subscription ends',
    kind: 'signature',
    params: [SIGNATURE, { commitment: 'confirmed' }],
    start: { slot: 10 },
    ticks: [
      { slot: 11, transactions: { [SIGNATURE]: { slot: 11, err: null, confirmationStatus: 'processed' } } },
      { slot: 12, transactions: { [SIGNATURE]: { slot: 11, err: null, confirmationStatus: 'confirmed' } } },
    ],
    want: [[], [{ context: { slot: 11 }, value: { err: null } }]],
    ended: true,
  },
  {
    reason: 'a failed transaction is notified with its error',
    kind: 'signature',
    params: [SIGNATURE, { commitment: 'processed' }],
    start: { slot: 10 },
    ticks: [
      {
        slot: 11,
        transactions: { [SIGNATURE]: { slot: 11, err: { InstructionError: [0, { Custom: 1 }] }, confirmationStatus: 'processed' } },
      },
    ],
    want: [[{ context: { slot: 11 }, value: { err: { InstructionError: [0, { Custom: 1 }] } } }]],
    ended: true,
  },
  {
    reason: 'a signature already finalized when subscribing is notified at the first tick',
    kind: 'signature',
    params: [SIGNATURE, { commitment: 'finalized' }],
    start: { slot: 50, transactions: { [SIGNATURE]: { slot: 3, err: null, confirmationStatus: 'finalized' } } },
    ticks: [{ slot: 50, transactions: { [SIGNATURE]: { slot: 3, err: null, confirmationStatus: 'finalized' } } }],
    want: [[{ context: { slot: 3 }, value: { err: null } }]],
    ended: true,
  },
  {
    reason: 'receivedSignature comes first when asked, once, then the status at the commitment',
    kind: 'signature',
    params: [SIGNATURE, { commitment: 'finalized', enableReceivedNotification: true }],
    start: { slot: 10 },
    ticks: [
      { slot: 11, transactions: { [SIGNATURE]: { slot: 11, err: null, confirmationStatus: 'processed' } } },
      { slot: 12, transactions: { [SIGNATURE]: { slot: 11, err: null, confirmationStatus: 'confirmed' } } },
      { slot: 15, transactions: { [SIGNATURE]: { slot: 11, err: null, confirmationStatus: 'finalized' } } },
    ],
    want: [[{ context: { slot: 11 }, value: 'receivedSignature' }], [], [{ context: { slot: 11 }, value: { err: null } }]],
    ended: true,
  },
  {
    reason: 'receivedSignature and the status come in one tick, in that order, when the commitment is already reached',
    kind: 'signature',
    params: [SIGNATURE, { commitment: 'processed', enableReceivedNotification: true }],
    start: { slot: 10 },
    ticks: [{ slot: 11, transactions: { [SIGNATURE]: { slot: 11, err: null, confirmationStatus: 'processed' } } }],
    want: [
      [
        { context: { slot: 11 }, value: 'receivedSignature' },
        { context: { slot: 11 }, value: { err: null } },
      ],
    ],
    ended: true,
  },
  // ---- slotSubscribe / rootSubscribe ----
  {
    reason: 'every new slot is notified with its parent and root, none twice',
    kind: 'slot',
    params: [],
    start: { slot: 10 },
    ticks: [{ slot: 10 }, { slot: 12 }, { slot: 12 }],
    want: [
      [],
      [
        { parent: 10, root: 7, slot: 11 },
        { parent: 11, root: 8, slot: 12 },
      ],
      [],
    ],
    ended: false,
  },
  {
    reason: 'every new root is notified, none twice',
    kind: 'root',
    params: [],
    start: { slot: 10 },
    ticks: [{ slot: 11 }, { slot: 11 }, { slot: 13 }],
    want: [[7], [], [8, 9]],
  },
];

describe('PubSub subscriptions, tick by tick', () => {
  for (const testCase of CASES) {
    test(testCase.reason, () => {
      const { sent, last } = run(testCase);
      assert.deepEqual(sent, testCase.want);
      if (testCase.ended !== undefined) assert.equal(last === undefined, testCase.ended);
    });
  }

  test('after a clock jump, slot subscriptions send only the newest slots', () => {
    const { sent } = run({ reason: '', kind: 'slot', params: [], start: { slot: 10 }, ticks: [{ slot: 10_000 }], want: [] });
    const slots = (sent[0] as { slot: number }[]).map((notification) => notification.slot);
    assert.equal(slots.length, MAX_SLOTS_PER_TICK);
    assert.equal(slots.at(0), 10_000 - MAX_SLOTS_PER_TICK + 1);
    assert.equal(slots.at(-1), 10_000);
  });
});

describe('PubSub subscribe params', () => {
  const REFUSALS: { reason: string; kind: SubscriptionKind; params: unknown[] }[] = [
    { reason: 'an account address that is not a public key', kind: 'account', params: ['not-a-key'] },
    { reason: 'an unknown encoding', kind: 'account', params: [WALLET, { encoding: 'hex' }] },
    { reason: 'an unknown commitment', kind: 'account', params: [WALLET, { commitment: 'soon' }] },
    { reason: 'a config that is not an object', kind: 'account', params: [WALLET, 'base64'] },
    { reason: 'a program id that is missing', kind: 'program', params: [] },
    { reason: 'filters that are not an array', kind: 'program', params: [PROGRAM.toBase58(), { filters: { dataSize: 1 } }] },
    { reason: 'a memcmp without bytes', kind: 'program', params: [PROGRAM.toBase58(), { filters: [{ memcmp: { offset: 0 } }] }] },
    { reason: 'a signature that is not base58', kind: 'signature', params: ['0OIl'] },
    { reason: 'a signature of the wrong length', kind: 'signature', params: [bs58.encode(Buffer.alloc(32, 1))] },
    {
      reason: 'enableReceivedNotification that is not a boolean',
      kind: 'signature',
      params: [SIGNATURE, { enableReceivedNotification: 'yes' }],
    },
  ];
  for (const refusal of REFUSALS) {
    test(`refuses ${refusal.reason} with -32602`, () => {
      assert.throws(
        () => startSubscription(refusal.kind, refusal.params, viewOf({ slot: 1 })),
        (error: unknown) => error instanceof RpcError && error.code === -32602,
      );
    });
  }

  test('the commitment defaults to finalized and the encoding to binary, as Agave', () => {
    const subscription = startSubscription('account', [WALLET], viewOf({ slot: 1 }));
    assert.equal(subscription.kind === 'account' && subscription.commitment, 'finalized');
    assert.equal(subscription.kind === 'account' && subscription.encoding.encoding, 'binary');
  });
});
