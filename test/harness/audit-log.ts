// Reads the test API server's audit log (JSON lines, Metadata level) to count what a client did:
// how many writes one controller makes for one object's lifecycle, by verb and resource.
import { readFile } from 'node:fs/promises';

export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  requestReceivedTimestamp: string;
  user: { username: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
}

export const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface AuditQuery {
  username: string;
  /** Only requests received at or after this instant. */
  since?: Date;
  namespace?: string;
  /** Keeps events whose object name satisfies this (events and owned objects carry derived names). */
  objectName?: (name: string) => boolean;
  verbs?: ReadonlySet<string>;
}

/** Completed requests matching the query (one event per request: the policy omits RequestReceived). */
export async function auditEvents(auditLogPath: string, query: AuditQuery): Promise<AuditEvent[]> {
  const text = await readFile(auditLogPath, 'utf8');
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // the batch writer may be mid-line
    }
    if (event.stage !== 'ResponseComplete' || event.user.username !== query.username) continue;
    if (query.verbs !== undefined && !query.verbs.has(event.verb)) continue;
    if (query.since !== undefined && new Date(event.requestReceivedTimestamp) < query.since) continue;
    if (query.namespace !== undefined && event.objectRef?.namespace !== query.namespace) continue;
    if (query.objectName !== undefined && !query.objectName(event.objectRef?.name ?? '')) continue;
    events.push(event);
  }
  return events;
}

/** "verb resource[/subresource]" → count, for a readable breakdown. */
export function countByRequest(events: readonly AuditEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) {
    const resource = event.objectRef?.resource ?? '?';
    const key = `${event.verb} ${resource}${event.objectRef?.subresource === undefined ? '' : `/${event.objectRef.subresource}`}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
