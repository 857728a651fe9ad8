// Service URLs of exposed ops: Nosana's id scheme (base58 of SHA-512 over "<opIndex>:<port>:<job>",
// first 44 characters) under the network's service domain, and what cannot be computed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bs58 from 'bs58';
import { Keypair } from '@solana/web3.js';
import { exposeId } from '../../../src/api/job-definition/expose-id.ts';
import { exposedServices } from '../../../src/controllers/nosana-job/service-urls.ts';

const JOB = Keypair.generate().publicKey.toBase58();
const DOMAIN = 'node.k8s.prd.nos.ci';

/** The id computed another way (WebCrypto), as the SDK documents it. */
async function referenceId(opIndex: number, port: number, job: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-512', new TextEncoder().encode(`${opIndex}:${port}:${job}`));
  return bs58.encode(new Uint8Array(digest)).slice(0, 44);
}

const run = (id: string, args: Record<string, unknown>) => ({ type: 'container/run', id, args: { image: 'nginx', ...args } });

describe('service URLs', () => {
  test('the expose id is the first 44 base58 characters of SHA-512("<opIndex>:<port>:<job>")', async () => {
    for (const [index, port] of [
      [0, 80],
      [3, 8080],
      [12, 65535],
    ] as const) {
      const id = exposeId(JOB, index, port);
      assert.equal(id, await referenceId(index, port, JOB));
      assert.equal(id.length, 44);
    }
    assert.notEqual(exposeId(JOB, 0, 80), exposeId(JOB, 1, 80), 'the op index is part of the id');
    assert.notEqual(exposeId(JOB, 0, 80), exposeId(JOB, 0, 81), 'the port is part of the id');
  });

  test('every exposed port of every container/run op, indexed by its place in ops (other op types count)', async () => {
    const definition = {
      version: '0.1',
      type: 'container',
      ops: [
        { type: 'container/create-volume', id: 'cache', args: { name: 'cache' } },
        run('web', { expose: 8080 }),
        run('batch', {}),
        run('multi', { expose: [80, { port: 9000, type: 'api' }] }),
      ],
    };
    const services = exposedServices(definition, JOB, DOMAIN);
    assert.equal(services.exposes, true);
    assert.deepEqual(services.unknown, []);
    assert.deepEqual(services.urls, [
      { op: 'web', port: 8080, url: `https://${await referenceId(1, 8080, JOB)}.${DOMAIN}` },
      { op: 'multi', port: 80, url: `https://${await referenceId(3, 80, JOB)}.${DOMAIN}` },
      { op: 'multi', port: 9000, url: `https://${await referenceId(3, 9000, JOB)}.${DOMAIN}` },
    ]);
  });

  test("the domain is the network's service domain", () => {
    const [service] = exposedServices({ ops: [run('web', { expose: 80 })] }, JOB, 'nodes.localnet.test').urls;
    assert.match(service?.url ?? '', /^https:\/\/[1-9A-HJ-NP-Za-km-z]{44}\.nodes\.localnet\.test$/);
  });

  test('a job without exposed ports is not a service', () => {
    assert.deepEqual(exposedServices({ ops: [run('train', {}), run('eval', { expose: [] })] }, JOB, DOMAIN), {
      exposes: false,
      urls: [],
      unknown: [],
    });
  });

  test('a private exposed op makes the whole job private: it exposes ports but no URL can be computed', () => {
    const services = exposedServices({ ops: [run('public', { expose: 80 }), run('secret', { expose: 81, private: true })] }, JOB, DOMAIN);
    assert.equal(services.exposes, true);
    assert.deepEqual(services.urls, []);
    assert.match(services.unknown.join(), /secret is private/);
  });

  test('ports given by literals are known only at run time', () => {
    const services = exposedServices({ ops: [run('dyn', { expose: ['%%ops.setup.results.port%%', 443] })] }, JOB, DOMAIN);
    assert.equal(services.exposes, true);
    assert.deepEqual(
      services.urls.map((service) => service.port),
      [443],
    );
    assert.match(services.unknown.join(), /dyn exposes ports that are known only at run time/);
  });

  test('malformed definitions (not JSON objects, ops not an array) expose nothing instead of throwing', () => {
    for (const definition of [null, 'text', { ops: 'x' }, { ops: [null, 7, run('x', { expose: 'not-a-literal-or-port' })] }]) {
      const services = exposedServices(definition, JOB, DOMAIN);
      assert.deepEqual(services.urls, []);
    }
  });
});
