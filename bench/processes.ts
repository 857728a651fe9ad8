// What the kernel says of a process of the local cluster: which one runs a given binary, its
// resident memory and the CPU time it used, read from /proc as `ps` and `top` do: the local
// cluster's components serve no metrics this benchmark can read (kube-controller-manager runs
// with --secure-port=0), and the kernel's figures are the same for every process.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LocalCluster } from '../src/local-cluster/cluster.ts';
import { sumSamples, type MetricSample } from '../test/harness/prometheus-text.ts';

/** The kernel's USER_HZ, in which /proc/<pid>/stat counts CPU time (100 on every Linux Node supports). */
const CLOCK_TICKS_PER_SECOND = 100;

/** The pid of the local cluster's component running `binary` (the cluster spawns each binary itself, no shell). */
export async function componentPid(cluster: LocalCluster, binary: string): Promise<number> {
  for (const pid of cluster.pids()) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (basename(commandLine.split('\0')[0] ?? '') === binary) return pid;
  }
  throw new Error(`no ${binary} among the local cluster's processes ${cluster.pids().join(', ')}`);
}

export async function residentBytesOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1_024;
}

/** User plus system CPU time of a process so far (utime and stime, fields 14 and 15 of /proc/<pid>/stat). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) is in parentheses and may hold spaces: count from after it
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** prom-client's process_resident_memory_bytes is VmRSS from /proc/self/status, the figure residentBytesOf reads. */
export function residentOf(samples: readonly MetricSample[]): number {
  return sumSamples(samples, 'process_resident_memory_bytes');
}
