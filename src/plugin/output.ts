// What -o json and -o yaml print: the objects as the API server holds them, without managedFields
// (kubectl hides them too), one object as itself and several as a v1 List, so that the output can
// be piped into jq, yq or `kubectl apply -f -`.
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';

function withoutManagedFields<T extends KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _hidden, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** Any value as JSON (kubectl's four-space indent) or YAML, ending in a newline. */
export function formatValue(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value, { lineWidth: 0 });
}

/** One object, or several as a List. */
export function formatObjects(objects: readonly KubernetesObject[], format: 'json' | 'yaml', single: boolean): string {
  const cleaned = objects.map(withoutManagedFields);
  const value =
    single && cleaned.length === 1 ? cleaned[0] : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: cleaned };
  return formatValue(value, format);
}

/** One object of a stream (`get -w -o yaml`): YAML documents are separated so the stream stays parseable. */
export function formatStreamedObject(object: KubernetesObject, format: 'json' | 'yaml'): string {
  const text = formatValue(withoutManagedFields(object), format);
  return format === 'yaml' ? `---\n${text}` : text;
}
