// The NosanaJob admission policy from an attacker's side, on a real API server: a team that may
// edit its own NosanaJobs must not be able to write the operator's nosana.io annotations (point
// its job at another team's on-chain job, then delete it to cancel that job), nor change what was
// paid for once a post is recorded. Requests are made as a tenant and as the operator, both
// impersonated through the admin kubeconfig, with the RBAC a cluster would give them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { CONFIRM_POST_ANNOTATION, JOB_ADDRESS_ANNOTATION, PENDING_POST_ANNOTATION } from '../../src/api/annotations.ts';
import { NOSANA_JOB_OPERATOR_VERB, NOSANA_JOB_POLICY_NAME } from '../../src/api/crds/admission-policy.ts';
import { useCluster, type ClusterContext } from '../harness/fixture.ts';
import { kubectl, kubectlOk, type KubectlResult } from '../harness/kubectl.ts';
import { installNosanaApis, waitForAdmissionPolicy } from '../harness/nosana-apis.ts';

/** Team B's on-chain job, which team A would like to cancel. */
const VICTIM_JOB = '3brMatsFV2uNaY9VDMKdC3jmpBvq1GQs1o9nvddQqKoQ';
const OWN_JOB = 'HRk9ybXfFjzMUGvdpLGyVDm7jzPPxXUa1Z8rKFQZrNwB';
const TENANT = 'team-a-developer';

type Json = Record<string, unknown>;

const definition = (cmd = 'echo hello'): Json => ({
  version: '0.1',
  type: 'container',
  ops: [{ id: 'hello', type: 'container/run', args: { image: 'ubuntu', cmd } }],
});

const pendingPost = (jobAddress: string) =>
  JSON.stringify({ jobAddress, signature: 'sig', transaction: 'dHg=', lastValidBlockHeight: 1, preparedAt: '2025-01-01T00:00:00Z' });

let ctx: ClusterContext;
let teamA: string;
let operator: string;
const suffix = randomBytes(4).toString('hex');
const operatorRole = `nosana-test-operator-${suffix}`;

const as = (user: string, args: string[], stdin?: string): Promise<KubectlResult> => kubectl(ctx, [`--as=${user}`, ...args], stdin);
const tenant = (args: string[], stdin?: string) => as(TENANT, ['-n', teamA, ...args], stdin);
const asOperator = (args: string[]) => as(operator, ['-n', teamA, ...args]);

function accepted(result: KubectlResult, what: string): void {
  assert.equal(result.code, 0, `${what} was refused: ${result.stderr}`);
}

function refused(result: KubectlResult, says: RegExp, what: string): void {
  assert.notEqual(result.code, 0, `${what} was accepted`);
  assert.match(result.stderr, new RegExp(`ValidatingAdmissionPolicy '${NOSANA_JOB_POLICY_NAME.replace(/\./g, '\\.')}'`), result.stderr);
  assert.match(result.stderr, says);
}

const escape = (text: string) => text.replace(/[.[\]/]/g, (m) => `\\${m}`);

async function createJob(name: string, spec: Json = {}, annotations?: Record<string, string>): Promise<void> {
  const object = {
    apiVersion: 'nosana.io/v1alpha1',
    kind: 'NosanaJob',
    metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
    spec: { market: 'nvidia-4090', definition: definition(), ...spec },
  };
  accepted(await tenant(['create', '-f', '-'], JSON.stringify(object)), `creating NosanaJob ${name}`);
}

describe("NosanaJob admission: nosana.io annotations and posted jobs, from a tenant's side", () => {
  before(async () => {
    ctx = await useCluster();
    await installNosanaApis(ctx);
    teamA = await ctx.freshNamespace('team-a');
    const operatorNamespace = await ctx.freshNamespace('nosana-system');
    operator = `system:serviceaccount:${operatorNamespace}:nosana-operator`;
    const rbac = ctx.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    // a tenant with every verb on nosana.io in its own namespace: a namespace-wide wildcard does
    // not make it the operator
    await rbac.createNamespacedRole({
      namespace: teamA,
      body: { metadata: { name: 'tenant' }, rules: [{ apiGroups: ['nosana.io'], resources: ['*'], verbs: ['*'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: teamA,
      body: {
        metadata: { name: 'tenant' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: TENANT }],
      },
    });
    // the operator as the chart grants it: patch NosanaJobs, and the verb the policy checks
    await rbac.createClusterRole({
      body: {
        metadata: { name: operatorRole, labels: { 'nosana.io/test': 'true' } },
        rules: [
          { apiGroups: ['nosana.io'], resources: ['nosanajobs'], verbs: ['get', 'list', 'watch', 'patch'] },
          { apiGroups: ['nosana.io'], resources: ['nosanajobs'], verbs: [NOSANA_JOB_OPERATOR_VERB] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: operatorRole, labels: { 'nosana.io/test': 'true' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: operatorRole },
        subjects: [{ kind: 'ServiceAccount', name: 'nosana-operator', namespace: operatorNamespace }],
      },
    });
    await waitForAdmissionPolicy(ctx, teamA);
  });

  after(async () => {
    const rbac = ctx?.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac?.deleteClusterRoleBinding({ name: operatorRole }).catch(() => undefined);
    await rbac?.deleteClusterRole({ name: operatorRole }).catch(() => undefined);
  });

  for (const [key, forged, own] of [
    [JOB_ADDRESS_ANNOTATION, VICTIM_JOB, OWN_JOB],
    [PENDING_POST_ANNOTATION, pendingPost(VICTIM_JOB), pendingPost(OWN_JOB)],
    ['nosana.io/anything-new', 'x', 'y'],
  ] as const) {
    test(`${key}: a tenant can neither add, change nor remove it; the operator can`, async () => {
      const name = `forge-${key.slice('nosana.io/'.length)}`;
      await createJob(name);
      const says = new RegExp(`metadata\\.annotations\\[${escape(key)}\\]: only the operator`);
      refused(await tenant(['annotate', 'nj', name, `${key}=${forged}`]), says, `a tenant adding ${key}`);
      accepted(await asOperator(['annotate', 'nj', name, `${key}=${own}`]), `the operator adding ${key}`);
      refused(await tenant(['annotate', '--overwrite', 'nj', name, `${key}=${forged}`]), says, `a tenant changing ${key}`);
      refused(
        await tenant(['patch', 'nj', name, '--type=merge', '-p', JSON.stringify({ metadata: { annotations: { [key]: null } } })]),
        says,
        `a tenant removing ${key}`,
      );
      accepted(await tenant(['annotate', 'nj', name, 'team.example/owner=alice']), 'a tenant writing an annotation of its own');
      accepted(await asOperator(['annotate', '--overwrite', 'nj', name, `${key}=${forged}`]), `the operator changing ${key}`);
      accepted(await asOperator(['annotate', 'nj', name, `${key}-`]), `the operator removing ${key}`);
    });
  }

  test(`${CONFIRM_POST_ANNOTATION} stays a person's: "landed" and "not-landed" are accepted, anything else is refused, and removing it is fine`, async () => {
    const name = 'confirm';
    await createJob(name);
    const says = new RegExp(`metadata\\.annotations\\[${escape(CONFIRM_POST_ANNOTATION)}\\]: must be "landed" or "not-landed"`);
    refused(await tenant(['annotate', 'nj', name, `${CONFIRM_POST_ANNOTATION}=maybe`]), says, 'confirm-post=maybe');
    accepted(await tenant(['annotate', 'nj', name, `${CONFIRM_POST_ANNOTATION}=landed`]), 'confirm-post=landed');
    refused(await tenant(['annotate', '--overwrite', 'nj', name, `${CONFIRM_POST_ANNOTATION}=Landed`]), says, 'confirm-post=Landed');
    accepted(await tenant(['annotate', '--overwrite', 'nj', name, `${CONFIRM_POST_ANNOTATION}=not-landed`]), 'confirm-post=not-landed');
    accepted(await tenant(['annotate', 'nj', name, `${CONFIRM_POST_ANNOTATION}-`]), 'removing confirm-post');
  });

  test('creating a NosanaJob that carries nosana.io annotations (a restore from Git or a backup) is accepted; the tenant cannot change them afterwards', async () => {
    const name = 'restored';
    await createJob(name, {}, { [JOB_ADDRESS_ANNOTATION]: OWN_JOB, [PENDING_POST_ANNOTATION]: pendingPost(OWN_JOB) });
    refused(
      await tenant(['annotate', 'nj', name, `${JOB_ADDRESS_ANNOTATION}-`]),
      new RegExp(escape(JOB_ADDRESS_ANNOTATION)),
      'a tenant removing the restored job address',
    );
    accepted(await tenant(['annotate', 'nj', name, 'team.example/restored=yes']), 'a tenant editing other annotations of the restored job');
  });

  test("a tenant cannot write a NosanaJob's status: the operator trusts the jobs it records", async () => {
    const name = 'status-forger';
    await createJob(name);
    const forged = { status: { jobAddress: OWN_JOB, attempts: [{ jobAddress: OWN_JOB, origin: 'posted' }] } };
    refused(
      await tenant(['patch', 'nj', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(forged)]),
      /status: only the operator writes the status/,
      'a tenant writing the status',
    );
  });

  describe('once a post is recorded, before it is known to have landed', () => {
    const change = (name: string, spec: Json) => tenant(['patch', 'nj', name, '--type=merge', '-p', JSON.stringify({ spec })]);

    test('by the pending-post annotation: market, definition, wallet and jobAddress are frozen; the timeout can only grow', async () => {
      const name = 'pending';
      await createJob(name, { timeout: '30m', walletSecretRef: { name: 'team-a-wallet' } });
      accepted(
        await asOperator(['annotate', 'nj', name, `${PENDING_POST_ANNOTATION}=${pendingPost(OWN_JOB)}`]),
        'the operator recording the post',
      );
      refused(await change(name, { market: 'nvidia-3090' }), /spec\.market: cannot change once the job is posted/, 'changing the market');
      refused(
        await change(name, { definition: definition('echo changed') }),
        /spec\.definition: cannot change once the job is posted \(a post recorded in nosana\.io\/pending-post\)/,
        'changing the definition',
      );
      refused(
        await change(name, { walletSecretRef: { name: 'team-b-wallet' } }),
        /spec\.walletSecretRef: cannot change once the job is posted/,
        'changing the wallet',
      );
      refused(await change(name, { walletSecretRef: null }), /spec\.walletSecretRef: cannot change/, 'removing the wallet');
      refused(
        await change(name, { jobAddress: VICTIM_JOB }),
        /spec\.jobAddress: cannot change once the job is posted/,
        'adding a job to adopt',
      );
      refused(await change(name, { timeout: '10m' }), /spec\.timeout: can only grow/, 'shrinking the timeout');
      refused(await change(name, { timeout: null }), /spec\.timeout: can only grow/, 'removing the timeout');
      accepted(await change(name, { timeout: 3600 }), 'growing the timeout');
      accepted(await tenant(['annotate', 'nj', name, 'team.example/note=fine']), 'editing an annotation of its own');
    });

    test('by status.pendingPost alone (the annotation lost): the same; a timeout where none was set is accepted', async () => {
      const name = 'pending-status';
      await createJob(name);
      await kubectlOk(ctx, [
        'patch',
        'nj',
        name,
        '-n',
        teamA,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            pendingPost: {
              jobAddress: OWN_JOB,
              runAddress: VICTIM_JOB,
              signature: 'sig',
              transaction: 'dHg=',
              lastValidBlockHeight: 1,
              preparedAt: '2025-01-01T00:00:00Z',
            },
          },
        }),
      ]);
      refused(await change(name, { market: 'nvidia-3090' }), /spec\.market: cannot change once the job is posted/, 'changing the market');
      refused(
        await change(name, { definition: definition('echo changed') }),
        new RegExp(`spec\\.definition: cannot change once the job is posted \\(post of job ${OWN_JOB}`),
        'changing the definition',
      );
      refused(
        await change(name, { walletSecretRef: { name: 'team-b-wallet' } }),
        /spec\.walletSecretRef: cannot change once the job is posted/,
        'adding a wallet',
      );
      // the market's default timeout applied; the controller compares the new one with what was posted
      accepted(await change(name, { timeout: '2h' }), 'setting a timeout where none was set');
      refused(await change(name, { timeout: '1h' }), /spec\.timeout: can only grow/, 'then shrinking it');
    });
  });
});
