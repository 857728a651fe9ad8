// An op's log as result entries, each tagged with the stream it came from. The node's results can
// select a stream (`logType: ["stderr"]`, NODE.md §2.8), while the Pod log endpoint merges both
// streams unless asked for one (`stream=Stdout|Stderr`, served by kubelets with
// PodLogsQuerySplitStreams, on by default since Kubernetes 1.34). So the runner reads the merged
// log for order, and each stream on its own to tag the lines; a kubelet that ignores the parameter
// answers every read with the merged log, which is recognised and read as all stdout, as before.
import type { LogEntry } from './flow-state.ts';

/** `<RFC 3339 timestamp> <text>` per line, as the log endpoint serves it with timestamps=true. */
export function parseLog(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const timestamp = space > 0 ? line.slice(0, space) : '';
    entries.push({ type: 'stdout', log: `${space > 0 ? line.slice(space + 1) : line}\n`, ...(timestamp === '' ? {} : { timestamp }) });
  }
  return entries;
}

/**
 * The merged log with each line tagged by its stream. `stdout` and `stderr` are the same log read
 * one stream at a time, or undefined when a read failed (the API refused the parameter): then, or
 * when both reads returned the whole merged log (the kubelet ignored the parameter), every line
 * stays stdout.
 */
export function tagStreams(merged: string, stdout: string | undefined, stderr: string | undefined): LogEntry[] {
  const entries = parseLog(merged);
  if (stdout === undefined || stderr === undefined) return entries;
  if (merged !== '' && stdout === merged && stderr === merged) return entries;
  // A line is its timestamp and text; the same line can occur more than once, so count them.
  const fromStderr = new Map<string, number>();
  for (const line of stderr.split('\n')) if (line !== '') fromStderr.set(line, (fromStderr.get(line) ?? 0) + 1);
  return entries.map((entry) => {
    const line = `${entry.timestamp === undefined ? '' : `${entry.timestamp} `}${entry.log.slice(0, -1)}`;
    const left = fromStderr.get(line) ?? 0;
    if (left === 0) return entry;
    fromStderr.set(line, left - 1);
    return { ...entry, type: 'stderr' as const };
  });
}
