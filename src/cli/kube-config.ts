// Which cluster a command talks to: --kubeconfig, else $KUBECONFIG (a list of files, as kubectl
// reads it), else the in-cluster config of a Pod.
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path !== undefined) {
    kubeConfig.loadFromFile(path);
  } else if (env['KUBECONFIG'] !== undefined && env['KUBECONFIG'] !== '') {
    // client-node reads $KUBECONFIG itself, including a list of files like kubectl does.
    kubeConfig.loadFromDefault();
  } else if (env['KUBERNETES_SERVICE_HOST'] !== undefined) {
    kubeConfig.loadFromCluster();
  } else {
    throw new Error('no cluster to talk to: pass --kubeconfig PATH or set $KUBECONFIG (or run in a pod)');
  }
  return kubeConfig;
}
