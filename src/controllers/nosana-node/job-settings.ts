// How a NosanaNode's jobs run: its spec (placement, GPUs, limits, exposure) joined with the agent's
// containment (denied egress, volume size, the operator image, who may reach job Pods). The spec
// decides what the GPU owner may decide; containment what the cluster administrator decides.
import { createHash } from 'node:crypto';
import type { NosanaNodeObject } from '../../api/crds/nosana-node.ts';
import { canonicalJson } from '../../runtime/kube-writer.ts';
import type { ExecutorSettings, ExposureSettings } from '../../executor/settings.ts';
import type { Containment } from './agent-options.ts';
import type { JobPlacement } from './capacity.ts';

/** The namespace the node's job Pods use: spec.pods.namespace, else the NosanaNode's own. */
export function jobNamespaceOf(node: NosanaNodeObject): string {
  return node.spec.pods?.namespace ?? node.metadata?.namespace ?? '';
}

/** Where the node's jobs may be placed and the GPUs each gets (what the capacity check counts). */
export function placementOf(node: NosanaNodeObject): JobPlacement {
  const { spec } = node;
  return {
    gpuResourceName: spec.gpuResourceName,
    gpusPerJob: spec.gpusPerJob,
    ...(spec.dra === undefined ? {} : { dra: spec.dra }),
    ...(spec.pods?.nodeSelector === undefined ? {} : { nodeSelector: spec.pods.nodeSelector }),
    ...(spec.pods?.tolerations === undefined ? {} : { tolerations: spec.pods.tolerations }),
  };
}

/**
 * A fingerprint of everything of the spec that decides where and how a job runs: the node joins
 * the queue with it, and a job claimed from that join runs only while it holds.
 */
export function placementFingerprint(node: NosanaNodeObject): string {
  const { spec } = node;
  const decisive = {
    namespace: jobNamespaceOf(node),
    placement: placementOf(node),
    limits: spec.limits,
    runtimeClassName: spec.pods?.runtimeClassName ?? null,
    storageClassName: spec.pods?.storageClassName ?? null,
    exposure: spec.exposure ?? null,
  };
  return createHash('sha256').update(canonicalJson(decisive)).digest('hex').slice(0, 16);
}

/** The executor's settings for one run of the node's job. */
export function jobSettingsOf(node: NosanaNodeObject, containment: Containment, identity: { run: string; node: string }): ExecutorSettings {
  const { spec } = node;
  const exposure = exposureOf(node);
  const peers = {
    ...(containment.exposureNamespace === undefined ? {} : { exposureNamespace: containment.exposureNamespace }),
    ...(containment.agentPods === undefined ? {} : { agent: containment.agentPods }),
  };
  return {
    ...placementOf(node),
    namespace: jobNamespaceOf(node),
    volumeSize: containment.volumeSize,
    limits: spec.limits,
    deniedCidrs: [...containment.deniedCidrs],
    operatorImage: containment.operatorImage,
    identity,
    ...(spec.pods?.storageClassName === undefined ? {} : { storageClassName: spec.pods.storageClassName }),
    ...(spec.pods?.runtimeClassName === undefined ? {} : { runtimeClassName: spec.pods.runtimeClassName }),
    ...(exposure === undefined ? {} : { exposure }),
    ...(Object.keys(peers).length === 0 ? {} : { networkPeers: peers }),
  };
}

function exposureOf(node: NosanaNodeObject): ExposureSettings | undefined {
  const exposure = node.spec.exposure;
  if (exposure === undefined) return undefined;
  return {
    baseDomain: exposure.baseDomain,
    kind: exposure.kind,
    ...(exposure.ingressClassName === undefined ? {} : { ingressClass: exposure.ingressClassName }),
    ...(exposure.gateway === undefined ? {} : { gateway: exposure.gateway }),
  };
}
