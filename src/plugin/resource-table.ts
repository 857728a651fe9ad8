// The `get` table of a nosana.io kind: NAME (and NAMESPACE with -A) then the CRD's printer columns,
// the priority-1 ones only with -o wide, each cell read by the column's JSONPath and formatted by
// its type as kubectl formats it. Pure: objects and the current time in, rows out.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PrinterColumn } from '../api/crds/crd.ts';
import { evaluateJsonPath } from './json-path.ts';
import type { PluginKind } from './kinds.ts';
import { humanAge } from './table.ts';

export interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
  /** ms since the epoch: what ages are measured from. */
  now: number;
}

function shownColumns(kind: PluginKind, wide: boolean): PrinterColumn[] {
  return kind.crd.printerColumns.filter((column) => wide || (column.priority ?? 0) === 0);
}

export function tableHeader(kind: PluginKind, options: Pick<TableOptions, 'wide' | 'allNamespaces'>): string[] {
  return [
    ...(options.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    ...shownColumns(kind, options.wide).map((column) => column.name.toUpperCase()),
  ];
}

function cell(object: KubernetesObject, column: PrinterColumn, now: number): string {
  const values = evaluateJsonPath(object, column.jsonPath).filter((value) => value !== null);
  if (values.length === 0) return '';
  if (column.type === 'date') {
    const time = Date.parse(String(values[0]));
    return Number.isNaN(time) ? String(values[0]) : humanAge(now - time);
  }
  return values.map((value) => (typeof value === 'object' ? JSON.stringify(value) : String(value))).join(',');
}

export function tableRow(kind: PluginKind, object: KubernetesObject, options: TableOptions): string[] {
  return [
    ...(options.allNamespaces ? [object.metadata?.namespace ?? ''] : []),
    object.metadata?.name ?? '',
    ...shownColumns(kind, options.wide).map((column) => cell(object, column, options.now)),
  ];
}

/** Objects in the order kubectl lists them: by namespace, then name. */
export function sortedObjects<T extends KubernetesObject>(objects: readonly T[]): T[] {
  const key = (object: KubernetesObject) => `${object.metadata?.namespace ?? ''}\u0000${object.metadata?.name ?? ''}`;
  return [...objects].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
