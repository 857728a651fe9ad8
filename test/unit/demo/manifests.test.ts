// The objects the demo creates are ones the API accepts (checked with the CRDs' own schemas), carry
// the seeds' story job unchanged, and put keys only where a user would: in Secrets, as the Solana
// CLI's keypair format.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Keypair } from '@solana/web3.js';
import { nosanaJobSpec } from '../../../src/api/crds/nosana-job.ts';
import { nosanaMarketSpec } from '../../../src/api/crds/nosana-market.ts';
import { nosanaNodeSpec } from '../../../src/api/crds/nosana-node.ts';
import { parseWallet } from '../../../src/chain/wallet.ts';
import { JOB_NAMESPACE_ALLOWED, JOB_NAMESPACE_LABEL } from '../../../src/controllers/nosana-node/containment.ts';
import { validateJobDefinition } from '../../../src/api/job-definition/index.ts';
import { REPO_ROOT } from '../../../src/local-cluster/binaries.ts';
import { DEMO, demoMarket, demoNamespaces, demoNode, keypairSecret, storyJob } from '../../../src/demo/manifests.ts';
import { STORY_IMAGE } from '../../../src/demo/simulation-rules.ts';

describe('the demo objects', () => {
  test("the story job: the seeds' story.json unchanged, a valid definition, paid from the wallet Secret, bounded in time and cost", async () => {
    const job = storyJob();
    const seed: unknown = JSON.parse(await readFile(join(REPO_ROOT, 'test', 'fixtures', 'story.json'), 'utf8'));
    assert.deepEqual(job.spec.definition, seed);
    assert.equal(validateJobDefinition(job.spec.definition).ok, true);
    const spec = nosanaJobSpec.parse(job.spec);
    assert.equal(spec.market, DEMO.market);
    assert.deepEqual(spec.walletSecretRef, { name: DEMO.walletSecret, key: 'keypair' });
    assert.equal(spec.timeout, 600);
    assert.equal(spec.maxCost, '1');
    assert.equal(spec.definition?.ops[0]?.args.image, STORY_IMAGE, 'the simulation rule matches the story image');
    assert.deepEqual(job.metadata, { name: DEMO.job, namespace: DEMO.namespace });
  });

  test('the NosanaNode serves the demo market with the node key and runs job Pods in the job namespace', () => {
    const node = demoNode();
    const spec = nosanaNodeSpec.parse(node.spec);
    assert.equal(spec.market, DEMO.market);
    assert.deepEqual(spec.keySecretRef, { name: DEMO.nodeKeySecret, key: 'keypair' });
    assert.equal(spec.pods?.namespace, DEMO.jobNamespace);
    assert.notEqual(DEMO.jobNamespace, DEMO.namespace, 'job Pods never run beside the key Secret');
  });

  test('the NosanaMarket mirrors the given address on the localnet', () => {
    const market = demoMarket('6Kp3BaTy6VWhHdXBWRUhJFUeDG1iRQEj2nsJ7SdT1LMj');
    assert.deepEqual(nosanaMarketSpec.parse(market.spec).network, 'localnet');
    assert.equal(market.spec.address, '6Kp3BaTy6VWhHdXBWRUhJFUeDG1iRQEj2nsJ7SdT1LMj');
  });

  test('only the job namespace is marked for job Pods', () => {
    const labels = Object.fromEntries(demoNamespaces().map((namespace) => [namespace.metadata?.name, namespace.metadata?.labels ?? {}]));
    assert.deepEqual(labels, { [DEMO.namespace]: {}, [DEMO.jobNamespace]: { [JOB_NAMESPACE_LABEL]: JOB_NAMESPACE_ALLOWED } });
  });

  test('a keypair Secret holds the Solana CLI format the operator reads back to the same key', () => {
    const keypair = Keypair.generate();
    const secret = keypairSecret(DEMO.nodeKeySecret, keypair);
    assert.equal(secret.metadata?.namespace, DEMO.namespace);
    const back = parseWallet(secret.stringData?.['keypair'] ?? '', 'the Secret');
    assert.equal(back.publicKey.toBase58(), keypair.publicKey.toBase58());
  });
});
