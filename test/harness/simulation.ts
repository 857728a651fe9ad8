// Giving simulated containers an outcome: exit code and run time through annotations
// (see kwok-stages.ts), output through KWOK Logs objects that point at a file in the CRI
// log format, which `kubectl logs` and the API's pod log endpoint then serve.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterContext } from './fixture.ts';
import { SIMULATION_ANNOTATIONS } from './kwok-stages.ts';

export { SIMULATION_ANNOTATIONS };

export interface SimulatedRun {
  exitCode: number;
  /** a Go duration, e.g. "2s" */
  runFor?: string;
}

export function simulationAnnotations(run: SimulatedRun): Record<string, string> {
  const annotations: Record<string, string> = { [SIMULATION_ANNOTATIONS.exitCode]: String(run.exitCode) };
  if (run.runFor) annotations[SIMULATION_ANNOTATIONS.runDuration] = run.runFor;
  return annotations;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Makes `kubectl logs <pod> -c <container>` print these lines. Call before or after the Pod exists. */
export async function simulateLogs(
  ctx: ClusterContext,
  namespace: string,
  pod: string,
  container: string,
  lines: LogLine[],
): Promise<void> {
  const file = join(ctx.handle.kwokLogsDir, `${namespace}_${pod}_${container}.log`);
  const start = Date.now();
  const cri = lines.map((line, i) => `${new Date(start + i).toISOString()} ${line.stream} F ${line.text}\n`).join('');
  await writeFile(file, cri);
  await ctx.objects.create({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Logs',
    metadata: { name: pod, namespace },
    spec: { logs: [{ containers: [container], logsFile: file }] },
  } as never);
}
