// The create-once record lives in annotations because backup/restore and some GitOps tools drop
// status. The opposite loss happens too: `kubectl replace`, or a tool that rewrites metadata,
// drops the operator's annotations while the status subresource keeps what the operator wrote.
// Without both annotations the posting path would post a second job, so a status that still names
// a post in flight or a job puts the annotations back first.
import { JOB_ADDRESS_ANNOTATION, PENDING_POST_ANNOTATION } from '../../api/annotations.ts';
import type { NosanaJobObject } from '../../api/crds/nosana-job.ts';

/** The annotations to restore from the status, or undefined when nothing was lost. */
export function lostAnnotations(object: NosanaJobObject): Record<string, string> | undefined {
  const annotations = object.metadata?.annotations ?? {};
  // An adopted job is named by its spec; only what this resource posted needs a record.
  if (object.spec.jobAddress !== undefined) return undefined;
  if (annotations[PENDING_POST_ANNOTATION] !== undefined || annotations[JOB_ADDRESS_ANNOTATION] !== undefined) return undefined;
  const { pendingPost, jobAddress } = object.status ?? {};
  const restored: Record<string, string> = {
    ...(pendingPost === undefined ? {} : { [PENDING_POST_ANNOTATION]: JSON.stringify(pendingPost) }),
    ...(jobAddress === undefined ? {} : { [JOB_ADDRESS_ANNOTATION]: jobAddress }),
  };
  return Object.keys(restored).length === 0 ? undefined : restored;
}
