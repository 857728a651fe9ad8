// From the attacker's side: someone who may edit NosanaMarkets but not read Secrets points
// a market's pinning API (or RPC) at a server of their own and names the namespace's wallet Secret
// as its token (or headers). The operator must refuse before sending anything: the market and the
// job using it say which Secret, which field and which label, the attacker's server sees no
// request at all, and nothing is spent. A token Secret labelled for pinning is then accepted.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PatchStrategy } from '@kubernetes/client-node';
import { SECRET_USE_LABEL } from '../../src/api/annotations.ts';
import { serializeWallet } from '../../src/chain/wallet.ts';
import {
  conditionOf,
  NOSANA_API_VERSION,
  simpleDefinition,
  WALLET_KEY,
  type NosanaMarketResource,
  type NosanaMarketSpecInput,
} from '../harness/nosana-fixtures.ts';
import { jobAccountsOf, readLedger } from '../harness/nosana-ledger.ts';
import { useNosanaScene } from '../harness/nosana-scene.ts';
import { startRecordingServer } from '../harness/recording-server.ts';
import type { RecordedRequest, RecordingServer } from '../harness/recording-server.ts';
import { waitFor } from '../../src/local-cluster/wait.ts';

/** Whether any recorded request carries `content` (or a recognisable piece of it) in a header or its body. */
function bearing(requests: readonly RecordedRequest[], content: string): RecordedRequest[] {
  const pieces = [content, content.slice(0, 24), Buffer.from(content).toString('base64').slice(0, 24)];
  return requests.filter((request) => {
    const text = `${JSON.stringify(request.headers)}\n${request.url}\n${request.body}`;
    return pieces.some((piece) => text.includes(piece));
  });
}

describe('Secrets sent over the network must be labelled for that use', () => {
  const scene = useNosanaScene({ prefix: 'secret-use' });
  let recorder: RecordingServer | undefined;
  // Registered after the scene's hooks, so it closes once the jobs are released.
  after(async () => recorder?.close());

  async function marketResource(name: string): Promise<NosanaMarketResource> {
    const { ns, ctx } = scene();
    return ctx.objects.read<NosanaMarketResource>({
      apiVersion: NOSANA_API_VERSION,
      kind: 'NosanaMarket',
      metadata: { name, namespace: ns.name },
    });
  }

  async function waitForMarket(
    name: string,
    what: string,
    accept: (market: NosanaMarketResource) => boolean,
  ): Promise<NosanaMarketResource> {
    return waitFor(
      async () => {
        const market = await marketResource(name);
        if (accept(market)) return market;
        const ready = conditionOf(market, 'Ready');
        throw new Error(`Ready=${ready?.status ?? '?'} reason ${ready?.reason ?? '?'}: ${ready?.message ?? ''}`);
      },
      { what: `NosanaMarket ${scene().ns.name}/${name} ${what}`, timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  test('a market naming the wallet Secret as its pinning token or RPC headers is refused; nothing is sent or spent; a labelled token is accepted', async () => {
    const { ns, ctx, localnet } = scene();
    recorder = await startRecordingServer(localnet.info.ipfsApiUrl);
    const attacker = recorder;

    // The namespace's wallet, the market's default wallet for its jobs.
    const walletRef = { name: 'treasury', key: WALLET_KEY };
    const wallet = await ns.wallet(walletRef.name);
    const walletContent = serializeWallet(wallet);
    const pinningSpec = (credentialsSecretRef: { name: string; key: string }): Partial<NosanaMarketSpecInput> => ({
      walletSecretRef: walletRef,
      ipfs: { pinning: { provider: 'pinata', url: attacker.url, credentialsSecretRef } },
    });
    const market = await ns.market('exfil', { spec: pinningSpec(walletRef), waitReady: false });
    await ns.market('exfil-rpc', { spec: { rpc: { url: attacker.url, headersSecretRef: walletRef } }, waitReady: false });
    const before = await readLedger(localnet, { poster: wallet.publicKey, market });

    const secretName = `${ns.name}/${walletRef.name}`;
    const refusedPinning = await waitForMarket(
      'exfil',
      'to refuse its settings',
      (object) => conditionOf(object, 'Ready')?.reason === 'SettingsInvalid',
    );
    const pinningMessage = conditionOf(refusedPinning, 'Ready')?.message ?? '';
    assert.equal(conditionOf(refusedPinning, 'Ready')?.status, 'False');
    assert.ok(pinningMessage.includes(secretName), `the Secret is named: ${pinningMessage}`);
    assert.ok(pinningMessage.includes('spec.ipfs.pinning.credentialsSecretRef'), `the field is named: ${pinningMessage}`);
    assert.ok(pinningMessage.includes(`${SECRET_USE_LABEL}=pinning`), `the missing label is named: ${pinningMessage}`);

    const refusedRpc = await waitForMarket(
      'exfil-rpc',
      'to refuse its settings',
      (object) => conditionOf(object, 'Ready')?.reason === 'SettingsInvalid',
    );
    const rpcMessage = conditionOf(refusedRpc, 'Ready')?.message ?? '';
    assert.ok(
      rpcMessage.includes(secretName) && rpcMessage.includes('spec.rpc.headersSecretRef'),
      `the Secret and field are named: ${rpcMessage}`,
    );
    assert.ok(rpcMessage.includes(`${SECRET_USE_LABEL}=rpc-headers`), `the missing label is named: ${rpcMessage}`);

    // A job posting to the market is held back with the same explanation.
    await ns.createJob('exfil-job', { market: 'exfil', definition: simpleDefinition() });
    const job = await ns.waitForJob('exfil-job', 'to report the unlabelled Secret', (object) => {
      const ready = conditionOf(object, 'Ready');
      return ready?.status === 'False' && (ready.message ?? '').includes(`${SECRET_USE_LABEL}=pinning`);
    });
    const jobMessage = conditionOf(job, 'Ready')?.message ?? '';
    assert.equal(job.status?.phase, 'Pending');
    assert.ok(
      jobMessage.includes(secretName) && jobMessage.includes('spec.ipfs.pinning.credentialsSecretRef'),
      `the job names the Secret and field: ${jobMessage}`,
    );

    for (const message of [pinningMessage, rpcMessage, jobMessage]) {
      assert.ok(!message.includes(walletContent.slice(0, 24)), 'no condition quotes the wallet');
    }
    assert.deepEqual(
      attacker.requests.map((request) => `${request.method} ${request.url}`),
      [],
      "the attacker's server received no request at all",
    );
    assert.deepEqual(await readLedger(localnet, { poster: wallet.publicKey, market }), before, 'nothing was spent');
    assert.deepEqual(await jobAccountsOf(localnet, wallet.publicKey), [], 'no job was posted');

    // The owner of the pinning service hands over a token meant for it: labelled, it is used.
    const token = 'pinning-token-for-exfil';
    await ctx.core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'pinning-token', labels: { [SECRET_USE_LABEL]: 'pinning' } }, stringData: { jwt: token } },
    });
    await ctx.objects.patch(
      {
        apiVersion: NOSANA_API_VERSION,
        kind: 'NosanaMarket',
        metadata: { name: 'exfil', namespace: ns.name },
        spec: pinningSpec({ name: 'pinning-token', key: 'jwt' }),
      } as NosanaMarketResource,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    await waitForMarket('exfil', 'to be Ready with the labelled token', (object) => conditionOf(object, 'Ready')?.status === 'True');
    await ns.waitForPhase('exfil-job', 'Queued');
    assert.ok(attacker.requests.length > 0, "the definition was pinned through the market's pinning API");
    for (const request of attacker.requests) assert.equal(request.headers.authorization, `Bearer ${token}`, 'with the labelled token');
    assert.deepEqual(bearing(attacker.requests, walletContent).length, 0, 'no request ever carried the wallet');
    assert.equal((await jobAccountsOf(localnet, wallet.publicKey)).length, 1, 'the job was posted once');
  });
});
