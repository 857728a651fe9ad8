// What each PubSub subscription tells its client, decided level-based: at every tick a
// subscription compares what it sees at its commitment with what it last sent (or found when it
// started) and notifies the difference, so a late or skipped tick neither loses an event nor sends
// one twice. No I/O here: the websocket server feeds in a view of the chain and sends the results.
//
// Deliberate choices, each as Agave behaves unless said otherwise:
// - A deleted account is notified as the empty default account (0 lamports, System owner), not
//   null; web3.js cannot parse a null account notification.
// - Program subscriptions say nothing when an account stops matching (closed, reassigned, filtered
//   out); it is notified again if it matches later.
// - A signature subscription notifies on its first tick if the transaction already reached the
//   commitment (Agave may stay silent; web3.js polls once to cover that), then ends. The localnet
//   sees a transaction only once it has landed, so "receivedSignature" comes with the processed status.
import bs58 from 'bs58';
import { SYSTEM_PROGRAM_ID } from './addresses.ts';
import type { Commitment } from './chain.ts';
import type { AccountsView } from './ledger.ts';
import type { LedgerAccount } from './program.ts';
import { accountViewOf, encodeAccount, type AccountView } from './rpc/account-encoding.ts';
import { commitmentOf, configParam, optionalBoolean, pubkeyParam, stringParam, type Params } from './rpc/params.ts';
import { parseFilters, type AccountDataFilter } from './rpc/program-account-filters.ts';
import { RpcError, invalidParams } from './rpc/rpc-error.ts';
import type { ConfirmationStatus } from './signature-store.ts';
import type { TransactionErrorJson } from './transaction-errors.ts';

/** Slot and root subscriptions catch up at most this many slots per tick (after a clock jump, the newest). */
export const MAX_SLOTS_PER_TICK = 64;

const TOO_LARGE_FOR_BASE58 = 'error: data too large for bs58 encoding';
const SIGNATURE_BYTES = 64;
const RANK: Record<ConfirmationStatus, number> = { processed: 0, confirmed: 1, finalized: 2 };

/** A landed transaction as the processed slot knows it. */
export interface LandedTransaction {
  slot: number;
  err: TransactionErrorJson | null;
  confirmationStatus: ConfirmationStatus;
}

/** The chain as one tick sees it. */
export interface PubsubChainView {
  /** The newest slot at `commitment`, on a node whose newest processed slot is `processed` (default: now). */
  slotAt(commitment: Commitment, processed?: number): number;
  /** The accounts as they stand at the commitment's slot. */
  accountsAt(commitment: Commitment): AccountsView;
  transaction(signature: string): LandedTransaction | undefined;
}

export type Subscription =
  | { kind: 'account'; address: string; commitment: Commitment; encoding: AccountView; seen: LedgerAccount | undefined }
  | {
      kind: 'program';
      programId: string;
      commitment: Commitment;
      encoding: AccountView;
      filters: AccountDataFilter[];
      seen: ReadonlyMap<string, LedgerAccount>;
    }
  | { kind: 'signature'; signature: string; commitment: Commitment; receivedNotification: boolean; sentReceived: boolean }
  | { kind: 'slot'; seen: number }
  | { kind: 'root'; seen: number };

export type SubscriptionKind = Subscription['kind'];

export const SUBSCRIBE_METHODS: Readonly<Record<string, SubscriptionKind>> = {
  accountSubscribe: 'account',
  programSubscribe: 'program',
  signatureSubscribe: 'signature',
  slotSubscribe: 'slot',
  rootSubscribe: 'root',
};

/** As on Agave, any of them ends a subscription of any kind: the id is what counts. */
export const UNSUBSCRIBE_METHODS: ReadonlySet<string> = new Set([
  'accountUnsubscribe',
  'programUnsubscribe',
  'signatureUnsubscribe',
  'slotUnsubscribe',
  'rootUnsubscribe',
]);

export const NOTIFICATION_METHODS: Readonly<Record<SubscriptionKind, string>> = {
  account: 'accountNotification',
  program: 'programNotification',
  signature: 'signatureNotification',
  slot: 'slotNotification',
  root: 'rootNotification',
};

export interface TickOutcome {
  /** The `result` of each notification to send, in order. */
  results: unknown[];
  /** The subscription as it stands after sending them; undefined once it has ended. */
  next: Subscription | undefined;
}

/** A subscription from a subscribe request, with what it sees now as its starting point. */
export function startSubscription(kind: SubscriptionKind, params: Params, view: PubsubChainView): Subscription {
  switch (kind) {
    case 'account': {
      const address = pubkeyParam(params, 0, 'pubkey').toBase58();
      const config = configParam(params, 1);
      const commitment = commitmentOf(config);
      const encoding = accountViewOf(config);
      return { kind, address, commitment, encoding, seen: view.accountsAt(commitment).get(address) };
    }
    case 'program': {
      const programId = pubkeyParam(params, 0, 'program id').toBase58();
      const config = configParam(params, 1);
      const commitment = commitmentOf(config);
      const encoding = accountViewOf(config);
      const filters = parseFilters(config['filters']);
      return { kind, programId, commitment, encoding, filters, seen: matchingAccounts(programId, filters, view.accountsAt(commitment)) };
    }
    case 'signature': {
      const signature = stringParam(params, 0, 'signature');
      if (!isSignature(signature)) throw invalidParams('Invalid Request: Invalid signature provided');
      const config = configParam(params, 1);
      return {
        kind,
        signature,
        commitment: commitmentOf(config),
        receivedNotification: optionalBoolean(config, 'enableReceivedNotification') ?? false,
        sentReceived: false,
      };
    }
    case 'slot':
      return { kind, seen: view.slotAt('processed') };
    case 'root':
      return { kind, seen: view.slotAt('finalized') };
  }
}

/** What to notify at this tick, and the subscription afterwards. */
export function tick(subscription: Subscription, view: PubsubChainView): TickOutcome {
  switch (subscription.kind) {
    case 'account': {
      const slot = view.slotAt(subscription.commitment);
      const accounts = view.accountsAt(subscription.commitment);
      const account = accounts.get(subscription.address);
      if (sameAccount(account, subscription.seen)) return { results: [], next: subscription };
      const value = encodeNotified(account, subscription.encoding, accounts);
      return { results: [{ context: { slot }, value }], next: { ...subscription, seen: account } };
    }
    case 'program': {
      const slot = view.slotAt(subscription.commitment);
      const accounts = view.accountsAt(subscription.commitment);
      const matching = matchingAccounts(subscription.programId, subscription.filters, accounts);
      const results = [];
      for (const [pubkey, account] of matching) {
        if (sameAccount(account, subscription.seen.get(pubkey))) continue;
        results.push({ context: { slot }, value: { pubkey, account: encodeNotified(account, subscription.encoding, accounts) } });
      }
      return { results, next: { ...subscription, seen: matching } };
    }
    case 'signature': {
      const landed = view.transaction(subscription.signature);
      if (!landed) return { results: [], next: subscription };
      const results: unknown[] = [];
      if (subscription.receivedNotification && !subscription.sentReceived) {
        results.push({ context: { slot: landed.slot }, value: 'receivedSignature' });
      }
      if (RANK[landed.confirmationStatus] < RANK[subscription.commitment]) {
        return { results, next: { ...subscription, sentReceived: subscription.receivedNotification } };
      }
      results.push({ context: { slot: landed.slot }, value: { err: landed.err } });
      return { results, next: undefined };
    }
    case 'slot': {
      const results = newSlots(subscription.seen, view.slotAt('processed')).map((slot) => ({
        parent: Math.max(0, slot - 1),
        root: view.slotAt('finalized', slot),
        slot,
      }));
      return { results, next: { ...subscription, seen: Math.max(subscription.seen, view.slotAt('processed')) } };
    }
    case 'root': {
      const root = view.slotAt('finalized');
      return { results: newSlots(subscription.seen, root), next: { ...subscription, seen: Math.max(subscription.seen, root) } };
    }
  }
}

// The slots after `seen` up to `newest`, the newest MAX_SLOTS_PER_TICK of them at most.
function newSlots(seen: number, newest: number): number[] {
  const slots = [];
  for (let slot = Math.max(seen + 1, newest - MAX_SLOTS_PER_TICK + 1); slot <= newest; slot++) slots.push(slot);
  return slots;
}

function matchingAccounts(programId: string, filters: AccountDataFilter[], accounts: AccountsView): Map<string, LedgerAccount> {
  const matching = new Map<string, LedgerAccount>();
  for (const [address, account] of accounts.entries()) {
    if (account.owner.toBase58() !== programId) continue;
    if (filters.every((filter) => filter(account.data))) matching.set(address, account);
  }
  return matching;
}

// Stored accounts are replaced, never changed in place, but a write may store equal content.
function sameAccount(a: LedgerAccount | undefined, b: LedgerAccount | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.lamports === b.lamports && a.executable === b.executable && a.owner.equals(b.owner) && a.data.equals(b.data);
}

const DELETED_ACCOUNT: LedgerAccount = Object.freeze({ lamports: 0n, owner: SYSTEM_PROGRAM_ID, data: Buffer.alloc(0), executable: false });

// As getAccountInfo encodes it, except that a deleted account is the empty default account (rent
// epoch 0) and data too large for base58 is replaced by Agave's error string instead of failing.
function encodeNotified(account: LedgerAccount | undefined, encoding: AccountView, accounts: AccountsView) {
  const readMint = (mint: string) => accounts.get(mint);
  if (account === undefined) return { ...encodeAccount(DELETED_ACCOUNT, encoding, readMint), rentEpoch: 0 };
  try {
    return encodeAccount(account, encoding, readMint);
  } catch (error) {
    if (!(error instanceof RpcError) || (encoding.encoding !== 'binary' && encoding.encoding !== 'base58')) throw error;
    const asBase64 = encodeAccount(account, { ...encoding, encoding: 'base64' }, readMint);
    return { ...asBase64, data: encoding.encoding === 'binary' ? TOO_LARGE_FOR_BASE58 : [TOO_LARGE_FOR_BASE58, 'base58'] };
  }
}

function isSignature(text: string): boolean {
  try {
    return bs58.decode(text).length === SIGNATURE_BYTES;
  } catch {
    return false;
  }
}
