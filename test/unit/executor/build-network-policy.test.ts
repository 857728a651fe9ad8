// The job's NetworkPolicy: its Pods talk to each other, DNS and the internet minus the denied
// ranges; only its own Pods, the exposure path and the agent may reach them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildNetworkPolicy } from '../../../src/executor/build-network-policy.ts';
import { jobSelector } from '../../../src/executor/labels.ts';
import { networkPolicyName } from '../../../src/executor/names.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../../src/executor/settings.ts';

const JOB = '7Uq9yCqnYbTTLfqVv5rZ3gYjNpJZRsqZJ7m2iYVQmAbW';
const SETTINGS: ExecutorSettings = { ...DEFAULT_EXECUTOR_SETTINGS, namespace: 'jobs', operatorImage: 'op:1' };
const OWN_PODS = { podSelector: jobSelector(JOB) };
const byNamespace = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

describe('NetworkPolicy', () => {
  test("selects the job's Pods and restricts both directions", () => {
    const policy = buildNetworkPolicy({ jobId: JOB, settings: SETTINGS });
    assert.equal(policy.metadata?.name, networkPolicyName(JOB));
    assert.equal(policy.metadata?.namespace, 'jobs');
    assert.deepEqual(policy.spec.podSelector, jobSelector(JOB));
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
  });

  const ingressRows: { reason: string; peers: Parameters<typeof buildNetworkPolicy>[1]; want: unknown[] }[] = [
    { reason: 'no peers given: only the job’s own Pods may connect', peers: {}, want: [{ from: [OWN_PODS] }] },
    {
      reason: 'the exposure path: every Pod of the ingress controller’s namespace',
      peers: { exposureNamespace: 'ingress-nginx' },
      want: [{ from: [OWN_PODS] }, { from: [{ namespaceSelector: byNamespace('ingress-nginx') }] }],
    },
    {
      reason: 'the agent: its Pods, by label, in its namespace (one peer, both selectors)',
      peers: { agent: { namespace: 'nosana-system', podLabels: { 'app.kubernetes.io/name': 'nosana-agent' } } },
      want: [
        { from: [OWN_PODS] },
        {
          from: [
            { namespaceSelector: byNamespace('nosana-system'), podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nosana-agent' } } },
          ],
        },
      ],
    },
  ];
  for (const { reason, peers, want } of ingressRows) {
    test(`ingress: ${reason}`, () => {
      assert.deepEqual(buildNetworkPolicy({ jobId: JOB, settings: SETTINGS }, peers).spec.ingress, want);
    });
  }

  test('ingress rules carry `from` as the API server reads it (not the client library’s `_from`)', () => {
    const wire = JSON.parse(JSON.stringify(buildNetworkPolicy({ jobId: JOB, settings: SETTINGS }))) as { spec: { ingress: object[] } };
    assert.ok(wire.spec.ingress.every((rule) => Object.hasOwn(rule, 'from') && !Object.hasOwn(rule, '_from')));
  });

  test('egress: own Pods, DNS in kube-system on 53 UDP and TCP, and the internet minus denied ranges by family', () => {
    const settings = { ...SETTINGS, deniedCidrs: ['10.0.0.0/8', '169.254.0.0/16', 'fc00::/7'] };
    const egress = buildNetworkPolicy({ jobId: JOB, settings }).spec.egress;
    assert.deepEqual(egress, [
      { to: [OWN_PODS] },
      {
        to: [{ namespaceSelector: byNamespace('kube-system') }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      {
        to: [
          { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '169.254.0.0/16'] } },
          { ipBlock: { cidr: '::/0', except: ['fc00::/7'] } },
        ],
      },
    ]);
  });

  test('the default denied ranges include the cloud metadata address and the private ranges', () => {
    const internet = buildNetworkPolicy({ jobId: JOB, settings: SETTINGS }).spec.egress[2]?.to ?? [];
    const v4 = internet.find((peer) => peer.ipBlock?.cidr === '0.0.0.0/0')?.ipBlock?.except ?? [];
    for (const cidr of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '168.63.129.16/32'])
      assert.ok(v4.includes(cidr), cidr);
  });

  test('nothing denied in a family: no empty `except` list', () => {
    const internet = buildNetworkPolicy({ jobId: JOB, settings: { ...SETTINGS, deniedCidrs: ['10.0.0.0/8'] } }).spec.egress[2]?.to ?? [];
    assert.deepEqual(internet[1], { ipBlock: { cidr: '::/0' } });
  });
});
