// Running `nosana-operator run` in-process from a test: the definition written to a file, the
// result document parsed from stdout (--output json), progress kept from stderr.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { FlowState } from '../../src/executor/flow-state.ts';

export interface Ran {
  code: number;
  flow: FlowState;
  stderr: string;
}

export async function runDefinition(
  target: { kubeconfigPath: string; namespace: string; dir: string },
  name: string,
  definition: unknown,
  extra: string[] = [],
): Promise<Ran> {
  const file = join(target.dir, `${name}.json`);
  await writeFile(file, JSON.stringify(definition));
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
  const code = await main(
    ['run', '--kubeconfig', target.kubeconfigPath, '--namespace', target.namespace, '--output', 'json', ...extra, file],
    io,
  );
  return { code, flow: JSON.parse(stdout) as FlowState, stderr };
}
