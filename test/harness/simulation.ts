// Simulated containers for tests that create Pods themselves: the annotations the local
// cluster's KWOK stages read (simulation.ts decides them for Pods the operator creates), and
// output through KWOK Logs objects pointing at a file in the CRI log format, which `kubectl logs`
// and the API's pod log endpoint then serve.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterContext } from './fixture.ts';
import { annotationsFor, criLog } from '../../src/local-cluster/simulation.ts';
import type { SimulatedBehaviour, SimulatedLogLine } from '../../src/local-cluster/simulation.ts';

export { SIMULATION_ANNOTATIONS } from '../../src/local-cluster/kwok-stages.ts';

/** The annotations that make a Pod this test creates behave as described (run until deleted by default). */
export function simulationAnnotations(behaviour: SimulatedBehaviour = {}): Record<string, string> {
  return annotationsFor('test', behaviour);
}

export type LogLine = SimulatedLogLine;

/** Makes `kubectl logs <pod> -c <container>` print these lines. Call before or after the Pod exists. */
export async function simulateLogs(
  ctx: ClusterContext,
  namespace: string,
  pod: string,
  container: string,
  lines: LogLine[],
): Promise<void> {
  const file = join(ctx.handle.kwokLogsDir, `${namespace}_${pod}_${container}.log`);
  await writeFile(file, criLog(lines, new Date()));
  await ctx.objects.create({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Logs',
    metadata: { name: pod, namespace },
    spec: { logs: [{ containers: [container], logsFile: file }] },
  } as never);
}
