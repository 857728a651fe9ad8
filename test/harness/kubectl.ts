// Runs the cluster's kubectl the way a user would, for tests of what users see.
import { spawn } from 'node:child_process';
import type { ClusterContext } from './fixture.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(ctx: ClusterContext, args: string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.binaries.kubectl, args, {
      env: { ...process.env, KUBECONFIG: ctx.handle.kubeconfigPath },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(ctx: ClusterContext, args: string[], stdin?: string): Promise<string> {
  const result = await kubectl(ctx, args, stdin);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}
