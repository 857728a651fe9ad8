// Installs the operator's APIs into the demo's cluster the way a user does: server-side apply of
// crds/ and deploy/admission/ with kubectl, then a wait until the CRDs are Established. Nothing is
// installed behind kubectl's back, so the demo also shows that the shipped manifests work.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../local-cluster/binaries.ts';

const run = promisify(execFile);

/** The CRDs the operator ships, by name, to wait for. */
export const NOSANA_CRDS = ['nosanajobs.nosana.io', 'nosanamarkets.nosana.io', 'nosananodes.nosana.io'] as const;

const ESTABLISHED_TIMEOUT = '60s';

/** The manifest directories, as the command line names them (relative to the repository). */
const API_MANIFESTS = ['crds', join('deploy', 'admission')] as const;

/** Runs kubectl against the cluster; a failure's message carries kubectl's own error. */
export async function kubectl(binary: string, kubeconfigPath: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(binary, [...args], {
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(`kubectl ${args.join(' ')} failed: ${stderr === '' ? (error as Error).message : stderr}`, { cause: error });
  }
}

/** The apply command line, as printed and as run. */
export function applyApisArgs(): string[] {
  return ['apply', '--server-side', ...API_MANIFESTS.flatMap((dir) => ['-f', `${dir}/`])];
}

export async function installNosanaApis(binary: string, kubeconfigPath: string): Promise<void> {
  await kubectl(binary, kubeconfigPath, applyApisArgs());
  await kubectl(binary, kubeconfigPath, [
    'wait',
    '--for=condition=Established',
    `--timeout=${ESTABLISHED_TIMEOUT}`,
    ...NOSANA_CRDS.map((name) => `crd/${name}`),
  ]);
}
