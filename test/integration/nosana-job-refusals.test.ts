// What the NosanaJob controller refuses before paying, end to end: the right Ready reason with a
// message that says what to fix, and nothing pinned or spent (the ledger is checked). Each test
// has a market and a wallet of its own; two namespaces test wallet tenancy.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublicKey } from '@solana/web3.js';
import { JOB_TYPE_DISABLED } from '../../src/chain/accounts.ts';
import { nosTokenAccount } from '../../src/chain/addresses.ts';
import { jobDeposit } from '../../src/chain/money.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import type { Localnet } from '../../src/localnet/localnet.ts';
import { conditionOf, simpleDefinition, WALLET_KEY, type NosanaJobResource, type NosanaNamespace } from '../harness/nosana-fixtures.ts';
import { fillMarketQueue, jobAccountsOf, readLedger, type LedgerReading } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';

const PRICE = 10n;
const TIMEOUT = 600n;
const DEPOSIT = jobDeposit(PRICE, TIMEOUT);
const SETTINGS = { price: PRICE, timeout: TIMEOUT };

/** Nothing left the wallet: same NOS, no job account, NOS conserved overall. */
async function assertNothingSpent(localnet: Localnet, wallet: PublicKey, market: PublicKey, before: LedgerReading): Promise<void> {
  const after = await readLedger(localnet, { poster: wallet, market });
  assert.equal(after.poster, before.poster, 'the wallet paid nothing');
  assert.equal(after.vault, before.vault, 'the market vault received nothing');
  assert.equal(after.total, before.total);
  assert.deepEqual(await jobAccountsOf(localnet, wallet), [], 'no job was posted');
}

function readyMessage(job: NosanaJobResource): string {
  return conditionOf(job, 'Ready')?.message ?? '';
}

describe('NosanaJob refusals through the controller process', () => {
  const scene = useNosanaScene({ prefix: 'nj-refuse', namespaces: 2 });

  test('an invalid definition: InvalidDefinition naming every problem with its path; nothing pinned or spent', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('invalid', { settings: SETTINGS });
    const pinnedBefore = localnet.ipfs.store.objectCount;
    await ns.createJob('invalid', {
      market: 'invalid',
      walletSecretRef,
      definition: {
        version: '0.1',
        type: 'container',
        ops: [{ id: 'has space', type: 'container/run', args: { image: 'ubuntu:24.04', unknownArg: 1 } }],
      },
    });
    const refused = await ns.waitForPhase('invalid', 'Pending', 'InvalidDefinition');
    assert.match(readyMessage(refused), /ops\[0\]\.id/, 'the op id problem is named with its path');
    assert.match(readyMessage(refused), /ops\[0\]\.args\.unknownArg/, 'the unknown key is named with its path');
    assert.equal(conditionOf(refused, 'Stalled')?.status, 'True', 'waiting will not help: the spec must change');
    assert.equal(localnet.ipfs.store.objectCount, pinnedBefore, 'nothing was pinned');
    await assertNothingSpent(localnet, wallet.publicKey, market, before);
  });

  test('credentials in the definition: PublicCredentials, nothing pinned; allowPublicCredentials lets it post', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('credentials', { settings: SETTINGS });
    const pinnedBefore = localnet.ipfs.store.objectCount;
    const password = 'correct-horse-battery-staple';
    await ns.createJob('credentials', {
      market: 'credentials',
      walletSecretRef,
      definition: {
        version: '0.1',
        type: 'container',
        ops: [
          {
            id: 'private-image',
            type: 'container/run',
            args: { image: 'registry.example/private:1', authentication: { docker: { username: 'me', password } } },
          },
        ],
      },
    });
    const refused = await ns.waitForPhase('credentials', 'Pending', 'PublicCredentials');
    assert.match(readyMessage(refused), /public/i, 'the message says why: the definition would be public');
    assert.match(readyMessage(refused), /allowPublicCredentials/, 'and how to accept it');
    assert.ok(!readyMessage(refused).includes(password), 'the credential itself is never repeated');
    assert.equal(localnet.ipfs.store.objectCount, pinnedBefore, 'nothing was pinned');
    await assertNothingSpent(localnet, wallet.publicKey, market, before);

    await ns.patchJob('credentials', { spec: { allowPublicCredentials: true } });
    const queued = await ns.waitForPhase('credentials', 'Queued');
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, 'accepted on purpose, it is posted once');
    assert.equal(queued.status?.marketAddress, market.toBase58());
  });

  test('an unknown market: MarketNotFound naming it; nothing spent', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('known', { settings: SETTINGS });
    await ns.createJob('unknown-market', { market: 'no-such-market', walletSecretRef, definition: simpleDefinition() });
    const refused = await ns.waitForPhase('unknown-market', 'Pending', 'MarketNotFound');
    assert.match(readyMessage(refused), /no-such-market/);
    await assertNothingSpent(localnet, wallet.publicKey, market, before);
  });

  test('a wallet without enough NOS: InsufficientFunds with the amounts; funded later, it posts', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('poor', { settings: SETTINGS, funding: { sol: 1n, nos: 1_000n } });
    await ns.createJob('poor', { market: 'poor', walletSecretRef, definition: simpleDefinition() });
    const refused = await ns.waitForPhase('poor', 'Pending', 'InsufficientFunds');
    assert.match(readyMessage(refused), /0\.001 NOS/, 'the message gives the balance');
    assert.match(readyMessage(refused), /0\.006 NOS/, 'and the deposit it needs');
    await assertNothingSpent(localnet, wallet.publicKey, market, before);

    localnet.chain.ledger.mintTo(nosTokenAccount(LOCALNET, wallet.publicKey), DEPOSIT);
    await ns.waitForPhase('poor', 'Queued', undefined, 120_000);
    assert.equal((await readLedger(localnet, { poster: wallet.publicKey, market })).poster, 1_000n, 'the deposit was paid once');
  });

  test('price × timeout above maxCost: OverBudget with both amounts; nothing spent', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('budget', { settings: SETTINGS });
    await ns.createJob('budget', { market: 'budget', timeout: 600, maxCost: '0.005', walletSecretRef, definition: simpleDefinition() });
    const refused = await ns.waitForPhase('budget', 'Pending', 'OverBudget');
    assert.match(readyMessage(refused), /0\.006/, 'the deposit');
    assert.match(readyMessage(refused), /0\.005/, 'the budget');
    await assertNothingSpent(localnet, wallet.publicKey, market, before);
  });

  test('a malformed wallet Secret: WalletUnavailable naming the Secret and key, never its content; nothing spent', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, before } = await ns.stage('malformed', { settings: SETTINGS });
    const content = '[1,2,3,250]';
    await ns.secret('malformed-secret', { [WALLET_KEY]: content });
    await ns.createJob('malformed', {
      market: 'malformed',
      walletSecretRef: { name: 'malformed-secret', key: WALLET_KEY },
      definition: simpleDefinition(),
    });
    const refused = await ns.waitForPhase('malformed', 'Pending', 'WalletUnavailable');
    assert.match(readyMessage(refused), /malformed-secret/);
    assert.match(readyMessage(refused), new RegExp(`"?${WALLET_KEY}"?`));
    assert.ok(!readyMessage(refused).includes(content) && !readyMessage(refused).includes('250'), 'the Secret content is never shown');
    await assertNothingSpent(localnet, wallet.publicKey, market, before);
  });

  test('a disabled market (job type 255): MarketDisabled, no deposit handed to a market that would keep it', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('disabled', {
      settings: { ...SETTINGS, jobType: JOB_TYPE_DISABLED },
    });
    await ns.createJob('disabled', { market: 'disabled', walletSecretRef, definition: simpleDefinition() });
    const refused = await ns.waitForPhase('disabled', 'Pending', 'MarketDisabled');
    assert.match(readyMessage(refused), /disabled/);
    await assertNothingSpent(localnet, wallet.publicKey, market, before);
  });

  test('a full market queue: MarketQueueFull; nothing spent', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('full', { settings: SETTINGS });
    fillMarketQueue(localnet, market);
    await ns.createJob('full', { market: 'full', walletSecretRef, definition: simpleDefinition() });
    const refused = await ns.waitForPhase('full', 'Pending', 'MarketQueueFull');
    assert.match(readyMessage(refused), /capacity|full/);
    await assertNothingSpent(localnet, wallet.publicKey, market, before);
  });

  test("namespace-scoped wallets: a market's default wallet pays for its own namespace only, never for another", async () => {
    const { namespaces, localnet } = scene();
    const [home, other] = namespaces as [NosanaNamespace, NosanaNamespace];
    const walletSecretRef = { name: 'market-wallet', key: WALLET_KEY };
    const marketWallet = await home.wallet(walletSecretRef.name);
    const market = await home.market('tenant', { settings: SETTINGS, spec: { walletSecretRef } });
    const before = await readLedger(localnet, { poster: marketWallet.publicKey, market });

    await other.createJob('borrower', { market: market.toBase58(), definition: simpleDefinition() });
    const refused = await other.waitForPhase('borrower', 'Pending', 'WalletNotAllowed');
    assert.match(readyMessage(refused), new RegExp(`${home.name}/tenant`), 'the message names the market whose wallet was refused');
    await other.createJob('secret-thief', { market: market.toBase58(), walletSecretRef, definition: simpleDefinition() });
    const unavailable = await other.waitForPhase('secret-thief', 'Pending', 'WalletUnavailable');
    assert.match(
      readyMessage(unavailable),
      new RegExp(`${other.name}/market-wallet`),
      "a walletSecretRef is looked up in the job's own namespace",
    );
    await assertNothingSpent(localnet, marketWallet.publicKey, market, before);

    await home.createJob('resident', { market: 'tenant', definition: simpleDefinition() });
    await home.waitForPhase('resident', 'Queued');
    const paid = await jobAccountsOf(localnet, marketWallet.publicKey);
    assert.equal(paid.length, 1, "the market's own namespace posts with its default wallet, once");
  });

  test('a daily spend limit: the job that fits posts, the next one waits with SpendLimitReached and pays nothing', async () => {
    const { ns, localnet } = scene();
    const { market, wallet, walletSecretRef, before } = await ns.stage('limited', {
      settings: SETTINGS,
      spec: { dailySpendLimit: '0.01' },
    });
    await ns.createJob('first', { market: 'limited', walletSecretRef, definition: simpleDefinition() });
    await ns.waitForPhase('first', 'Queued');
    await ns.createJob('second', { market: 'limited', walletSecretRef, definition: simpleDefinition() });
    const refused = await ns.waitForPhase('second', 'Pending', 'SpendLimitReached');
    assert.match(readyMessage(refused), /0\.01/, 'the message gives the limit');
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, 'only the first job was posted');
    const after = await readLedger(localnet, { poster: wallet.publicKey, market });
    assert.equal(after.poster, before.poster - DEPOSIT, 'only the first deposit was paid');
  });
});
