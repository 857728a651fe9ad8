// Finds (and if needed builds) the control-plane binaries through the project's own
// install script, which caches them outside the repository keyed by version.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface ControlPlaneBinaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeScheduler: string;
  kubeControllerManager: string;
  kubectl: string;
  kwok: string;
  helm: string;
  /** CRD manifests shipped in the KWOK module (Logs and friends) */
  kwokCrdDir: string;
}

let cached: Promise<ControlPlaneBinaries> | undefined;

export function controlPlaneBinaries(): Promise<ControlPlaneBinaries> {
  cached ??= locate();
  return cached;
}

async function locate(): Promise<ControlPlaneBinaries> {
  let dir = process.env.NOSANA_CONTROL_PLANE_BIN;
  if (!dir) {
    const script = join(REPO_ROOT, 'hack', 'install-control-plane.sh');
    // the script prints progress on stderr (inherited would interleave with test output,
    // so it is captured) and the bin directory as the last line of stdout
    const { stdout } = await run('bash', [script], { maxBuffer: 16 * 1024 * 1024, timeout: 60 * 60 * 1000 });
    dir = stdout.trim().split('\n').pop() ?? '';
  }
  const binaries: ControlPlaneBinaries = {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubectl: join(dir, 'kubectl'),
    kwok: join(dir, 'kwok'),
    helm: join(dir, 'helm'),
    kwokCrdDir: join(dir, '..', 'share', 'kwok-crds'),
  };
  for (const [name, path] of Object.entries(binaries)) {
    if (!existsSync(path)) throw new Error(`control plane incomplete: ${name} missing at ${path}; run npm run control-plane`);
  }
  return binaries;
}
