// Who controls an object: the owner reference marked controller, as the garbage collector and
// kubectl read it. An object of a name the operator writes (a ledger, an endpoints ConfigMap, a
// replica) is the operator's only when that reference names the expected owner by uid; one made
// by anyone else under the same name is neither trusted nor overwritten.
import type { V1ObjectMeta } from '@kubernetes/client-node';

/** Whether `object`'s controller owner reference names the owner with `uid` (and `kind`, when given). */
export function isControlledBy(object: { metadata?: V1ObjectMeta } | undefined, uid: string | undefined, kind?: string): boolean {
  if (uid === undefined || uid === '') return false;
  return (object?.metadata?.ownerReferences ?? []).some(
    (reference) => reference.controller === true && reference.uid === uid && (kind === undefined || reference.kind === kind),
  );
}
