// Tenancy from the attacker's side, end to end with the controller process: every namespace is
// a different team, and nothing one team writes may configure, spend or cancel another's jobs.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { nosTokenAccount } from '../../src/chain/addresses.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import { simpleDefinition, WALLET_KEY, type NosanaNamespace } from '../harness/nosana-fixtures.ts';
import { jobAccountsOf } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { startRecordingServer } from '../harness/recording-server.ts';
import type { RecordingServer } from '../harness/recording-server.ts';

const SETTINGS = { price: 10n, timeout: 600n };

describe('NosanaJob tenancy through the controller process', () => {
  const scene = useNosanaScene({ prefix: 'nj-tenancy', namespaces: 2 });
  let rogue: RecordingServer | undefined;
  after(async () => rogue?.close());

  test("a NosanaMarket in another namespace cannot become a bare-address job's network settings", async () => {
    const { namespaces, localnet } = scene();
    const [attacker, victim] = namespaces as [NosanaNamespace, NosanaNamespace];
    rogue = await startRecordingServer(localnet.info.rpcUrl);
    // The attacker mirrors the victim's market, "serves" the victim's namespace, and names its own RPC.
    const market = await attacker.market('lure', { settings: SETTINGS, spec: { allowedNamespaces: [victim.name], rpc: { url: rogue.url } } });
    const wallet = await victim.wallet('own-wallet');
    await victim.createJob('bare', { market: market.toBase58(), walletSecretRef: { name: 'own-wallet', key: WALLET_KEY }, definition: simpleDefinition() });
    await victim.waitForPhase('bare', 'Queued');

    const seen = rogue.requests.map((request) => request.body).join('\n');
    for (const [what, key] of [['wallet', wallet.publicKey], ['NOS account', nosTokenAccount(LOCALNET, wallet.publicKey)]] as const) {
      assert.ok(!seen.includes(key.toBase58()), `the victim's ${what} was never read through the attacker's RPC`);
    }
    assert.ok(!/sendTransaction|getSignatureStatuses/.test(seen), "the victim's post never went through the attacker's RPC");
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, 'posted once, through the operator\'s own RPC');
  });
});
