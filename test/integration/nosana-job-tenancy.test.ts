// Tenancy from the attacker's side, end to end with the controller process: every namespace is
// a different team, and nothing one team writes may configure, spend or cancel another's jobs.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PublicKey } from '@solana/web3.js';
import { JOB_ADDRESS_ANNOTATION } from '../../src/api/annotations.ts';
import { nosTokenAccount } from '../../src/chain/addresses.ts';
import { LOCALNET } from '../../src/localnet/localnet.ts';
import { nosanaJob, simpleDefinition, WALLET_KEY, type NosanaNamespace } from '../harness/nosana-fixtures.ts';
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
    const market = await attacker.market('lure', {
      settings: SETTINGS,
      spec: { allowedNamespaces: [victim.name], rpc: { url: rogue.url } },
    });
    const wallet = await victim.wallet('own-wallet');
    await victim.createJob('bare', {
      market: market.toBase58(),
      walletSecretRef: { name: 'own-wallet', key: WALLET_KEY },
      definition: simpleDefinition(),
    });
    await victim.waitForPhase('bare', 'Queued');

    const seen = rogue.requests.map((request) => request.body).join('\n');
    for (const [what, key] of [
      ['wallet', wallet.publicKey],
      ['NOS account', nosTokenAccount(LOCALNET, wallet.publicKey)],
    ] as const) {
      assert.ok(!seen.includes(key.toBase58()), `the victim's ${what} was never read through the attacker's RPC`);
    }
    assert.ok(!/sendTransaction|getSignatureStatuses/.test(seen), "the victim's post never went through the attacker's RPC");
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, "posted once, through the operator's own RPC");
  });

  test("a team that copies another team's job address into a NosanaJob it creates, then deletes it, cancels nothing", async () => {
    const { namespaces, localnet, ctx } = scene();
    const [owner, intruder] = namespaces as [NosanaNamespace, NosanaNamespace];
    // One market lends its default wallet to both teams: only the binding tells their jobs apart.
    const walletSecretRef = { name: 'shared-wallet', key: WALLET_KEY };
    const wallet = await owner.wallet(walletSecretRef.name);
    const market = await owner.market('shared', { settings: SETTINGS, spec: { walletSecretRef, allowedNamespaces: [intruder.name] } });
    await owner.createJob('real', { market: 'shared', definition: simpleDefinition() });
    const real = await owner.waitForPhase('real', 'Queued');
    const address = real.metadata?.annotations?.[JOB_ADDRESS_ANNOTATION] ?? '';

    // The admission policy accepts nosana.io annotations on create (restores need that).
    await ctx.objects.create({
      ...nosanaJob(intruder.name, 'copy', { market: market.toBase58(), definition: simpleDefinition() }),
      metadata: { namespace: intruder.name, name: 'copy', annotations: { [JOB_ADDRESS_ANNOTATION]: address } },
    });
    await intruder.waitForJob(
      'copy',
      'the copied job to be mirrored',
      (job) => job.status?.attempts?.some((attempt) => attempt.jobAddress === address) === true,
    );
    assert.ok((await intruder.eventReasons('copy')).includes('RecordUnproven'));
    await intruder.deleteJob('copy');
    await intruder.waitForJobGone('copy');

    const jobs = await jobAccountsOf(localnet, wallet.publicKey);
    assert.deepEqual(
      jobs.map((job) => job.address),
      [address],
      "the owner's job is the only one, still on chain",
    );
    assert.equal((await localnet.jobsClient().getJob(new PublicKey(address)))?.status, 'QUEUED', 'still queued: not delisted');
    assert.equal((await owner.job('real'))?.status?.phase, 'Queued');
  });
});
