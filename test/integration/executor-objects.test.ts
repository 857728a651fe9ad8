// The executor's objects as the real API server judges them: for every op of every real job
// definition (Nosana's examples and the docs' definitions), the Pod, its Service and Ingresses, pull
// Secrets, job volumes and the job's NetworkPolicy are created with a server-side dry run in a
// namespace that enforces Pod Security `baseline`. The API server validates every field; admission
// refuses any Pod that asks for privilege, and the same namespace refuses one that does (so the
// check is live). Nothing is stored. HTTPRoute is not checked here: the local cluster serves no
// Gateway API.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { KubeApi } from '../../src/runtime/kube-api.ts';
import { buildNetworkPolicy } from '../../src/executor/build-network-policy.ts';
import { buildOpPod } from '../../src/executor/build-pod.ts';
import { buildPullSecret } from '../../src/executor/build-secret.ts';
import { buildExposureRoutes, buildOpService } from '../../src/executor/build-service.ts';
import { buildJobVolumeClaim } from '../../src/executor/build-volume.ts';
import { isPlan, planJob } from '../../src/executor/plan.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../src/executor/settings.ts';
import type { ExecutorSettings } from '../../src/executor/settings.ts';
import { useCluster } from '../harness/fixture.ts';
import type { ClusterContext } from '../harness/fixture.ts';
import { jobExamples, seedDefinitions, sharedMissingReason } from '../unit/job-definition/reference-definitions.ts';

const JOB = '7Yd5oFvZeyCpXhzPdEUQXjqrtiSh7xXsW6Kx1h9m3Xg1';

/** Ops whose args still hold "%%…%%" literals get their values at launch; their objects are built then. */
function hasLiteral(value: unknown): boolean {
  return JSON.stringify(value).includes('%%');
}

describe('executor objects accepted by the API server, Pod Security baseline enforced', { skip: sharedMissingReason }, () => {
  let ctx: ClusterContext;
  let api: KubeApi;
  let namespace: string;
  let settings: ExecutorSettings;

  before(async () => {
    ctx = await useCluster();
    api = new KubeApi(ctx.kubeConfig);
    namespace = await ctx.freshNamespace('exec');
    await api.request('PATCH', `/api/v1/namespaces/${namespace}`, {
      body: {
        metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
      },
      contentType: 'application/merge-patch+json',
    });
    settings = {
      ...DEFAULT_EXECUTOR_SETTINGS,
      namespace,
      operatorImage: 'ghcr.io/nosana-operator/nosana-operator:test',
      storageClassName: ctx.handle.storageClass,
      exposure: { baseDomain: 'jobs.example.org', kind: 'Ingress', ingressClass: 'nginx' },
    };
  });

  async function dryRun(object: KubernetesObject): Promise<void> {
    const path = await api.resourcePath({ apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', namespace });
    await api.request('POST', path, { query: { dryRun: 'All' }, body: object });
  }

  test('every op of every real definition: its objects pass validation and admission', async () => {
    const definitions = [...jobExamples(), ...seedDefinitions()];
    let pods = 0;
    let services = 0;
    for (const { name, definition } of definitions) {
      const plan = planJob(definition, JOB);
      if (!isPlan(plan)) continue;
      const job = { jobId: JOB, settings };
      for (const volume of plan.volumes) await dryRun(buildJobVolumeClaim(job, volume));
      await dryRun(buildNetworkPolicy(job, { exposureNamespace: 'ingress-nginx' }) as KubernetesObject);
      for (const op of plan.ops) {
        if (op.type !== 'container/run' || hasLiteral(op.args)) continue;
        const opContext = { ...job, opIndex: op.index, opId: op.id };
        const pod = buildOpPod(opContext, { args: op.args, definition: plan.definition });
        await dryRun(pod).catch((error: unknown) => assert.fail(`${name} op ${op.id}: ${(error as Error).message}`));
        pods += 1;
        const docker = op.args.authentication?.docker;
        if (docker !== undefined) await dryRun(buildPullSecret(opContext, op.args.image, docker));
        const service = buildOpService(opContext, op.args);
        if (service === undefined) continue;
        await dryRun(service);
        for (const route of buildExposureRoutes(opContext, op.args, { mode: 'public' })) await dryRun(route.route as KubernetesObject);
        services += 1;
      }
    }
    assert.ok(pods >= 20, `Pods of the real definitions were checked (${pods})`);
    assert.ok(services >= 5, `Services of exposed ops were checked (${services})`);
  });

  test('the same namespace refuses a Pod that asks for what job Pods never carry (the check is live)', async () => {
    const hostile: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostile' },
      spec: {
        hostNetwork: true,
        containers: [{ name: 'op', image: 'ubuntu', securityContext: { privileged: true } }],
      },
    };
    await assert.rejects(dryRun(hostile), /violates PodSecurity "baseline/);
  });

  test('a definition whose args try everything still gets a Pod with none of it, and admission accepts it', async () => {
    const plan = planJob(
      {
        version: '0.1',
        type: 'container',
        ops: [
          {
            type: 'container/run',
            id: 'escape',
            args: {
              image: 'ubuntu',
              entrypoint: ['nsenter', '--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid'],
              cmd: ['--privileged', '--cap-add=SYS_ADMIN', '-v', '/:/host', '--network=host'],
              env: { NVIDIA_VISIBLE_DEVICES: 'all', KUBERNETES_SERVICE_HOST: '10.0.0.1' },
              work_dir: '/host',
              gpu: false,
            },
          },
        ],
      },
      JOB,
    );
    assert.ok(isPlan(plan), 'the hostile definition is a valid definition');
    const op = plan.ops[0];
    assert.ok(op?.type === 'container/run');
    const pod = buildOpPod({ jobId: JOB, settings, opIndex: 0, opId: op.id }, { args: op.args, definition: plan.definition });
    await dryRun(pod);
    const spec = pod.spec!;
    const container = spec.containers[0]!;
    assert.equal(spec.hostNetwork ?? false, false);
    assert.equal(spec.hostPID ?? false, false);
    assert.equal(spec.hostIPC ?? false, false);
    assert.equal(spec.automountServiceAccountToken, false);
    assert.ok(
      (spec.volumes ?? []).every((volume) => volume.hostPath === undefined),
      'no hostPath volume',
    );
    assert.equal(container.securityContext?.privileged ?? false, false);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext?.capabilities?.add ?? [], []);
    assert.ok(container.securityContext?.capabilities?.drop?.includes('NET_RAW'));
    assert.equal(spec.securityContext?.seccompProfile?.type ?? container.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(
      container.env?.find((entry) => entry.name === 'NVIDIA_VISIBLE_DEVICES')?.value,
      'void',
      'a job without GPUs cannot select them through the NVIDIA runtime',
    );
  });
});
