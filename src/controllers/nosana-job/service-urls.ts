// The public URLs of a job's exposed ports. Nosana derives them from the job address, the op's
// index and the port alone, so the operator can show them as soon as a node runs the job, with no
// call to the node: https://<first 44 chars of base58(SHA-512("<opIndex>:<port>:<job>"))>.<domain>
// (expose-id.ts). The domain is the network's frp server.
import { exposeId } from '../../api/job-definition/expose-id.ts';
import { readOperations } from '../../api/job-definition/op-views.ts';
import { isPlainObject, ownProperty } from '../../api/job-definition/json-values.ts';

/** status.serviceUrls holds at most this many entries (the CRD's bound). */
const MAX_SERVICE_URLS = 64;

export interface ServiceUrl {
  op: string;
  port: number;
  url: string;
}

export interface ExposedServices {
  /** Some op exposes a port (the job is a service, whether or not its URLs can be known here). */
  exposes: boolean;
  /** The URLs known from the definition alone; empty for private jobs. */
  urls: ServiceUrl[];
  /** Why exposed ports have no URL here (private ops, ports only known at run time). */
  unknown: string[];
}

/**
 * Reads an `expose` value: numbers and {port} objects are known ports; literal strings and spread
 * markers are filled in by the node at run time, so they expose something we cannot name.
 */
function exposedPorts(expose: unknown): { ports: number[]; runtime: boolean } {
  const entries = Array.isArray(expose) ? expose : expose === undefined ? [] : [expose];
  const ports: number[] = [];
  let runtime = false;
  for (const entry of entries) {
    const port = typeof entry === 'number' ? entry : ownProperty(entry, 'port');
    if (typeof port === 'number' && Number.isInteger(port)) ports.push(port);
    else if (typeof entry === 'string' || isPlainObject(entry)) runtime = true;
  }
  return { ports, runtime };
}

/**
 * The services a job definition (as pinned, so untrusted JSON) exposes. A job with any private
 * exposed op gets random ids from its node for every op (the SDK's private mode), so none of its
 * URLs can be computed.
 */
export function exposedServices(definition: unknown, jobAddress: string, serviceDomain: string): ExposedServices {
  const exposing = readOperations(definition)
    .filter((op) => op.type === 'container/run')
    .map((op) => ({ op, ...exposedPorts(ownProperty(op.args, 'expose')) }))
    .filter(({ ports, runtime }) => ports.length > 0 || runtime);
  if (exposing.length === 0) return { exposes: false, urls: [], unknown: [] };
  const name = (op: { id: string | undefined; index: number }): string => op.id ?? `ops[${op.index}]`;
  const privateOps = exposing.filter(({ op }) => ownProperty(op.args, 'private') === true);
  if (privateOps.length > 0) {
    return {
      exposes: true,
      urls: [],
      unknown: [`op ${privateOps.map(({ op }) => name(op)).join(', ')} is private: its URLs come only from the node's API`],
    };
  }
  const urls = exposing.flatMap(({ op, ports }) =>
    ports.map((port) => ({
      op: name(op),
      port,
      url: `https://${exposeId(jobAddress, op.index, port)}.${serviceDomain}`,
    })),
  );
  const unknown = exposing.filter(({ runtime }) => runtime).map(({ op }) => `op ${name(op)} exposes ports that are known only at run time`);
  return { exposes: true, urls: urls.slice(0, MAX_SERVICE_URLS), unknown };
}
