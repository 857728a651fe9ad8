// Probes a replica's service URL from the poster side with the HTTP health checks its definition
// declares, the way a user's client would reach it: over the public URL, through the network's
// tunnel gateway. A replica that is "running" on chain but unreachable is what users pay for
// without getting; this is how the deployment sees it.
//
// The URL's domain comes from the market's settings, which a tenant may write, so a probe is a
// request to a host a stranger may choose: it is refused when the host resolves into a range the
// operator may not reach (cluster networks, loopback, link-local, private ranges), and no redirect
// is followed. A gateway the administrator configured (`--probe-gateway DOMAIN=URL`: the service
// domain's tunnel gateway as reached from inside the cluster) is trusted and reached directly,
// with the service's host in the Host header, which is how the gateway routes.
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HttpHealthCheck } from '../../api/job-definition/index.ts';
import { AddressGuard } from '../../http/address-guard.ts';
import { DEFAULT_EXECUTOR_SETTINGS } from '../../executor/settings.ts';

export interface ProbeOutcome {
  ok: boolean;
  /** Short and safe to show: the method, the path without its query, the status or the failure. */
  detail: string;
}

export interface Prober {
  probe(url: string, check: HttpHealthCheck, signal?: AbortSignal): Promise<ProbeOutcome>;
}

/**
 * What no tenant's URL may reach beyond those AddressGuard always denies: what job Pods may never
 * reach either (private and carrier-grade NAT ranges, link-local, Azure's WireServer).
 */
const SHARED_CLUSTER_DENIED = DEFAULT_EXECUTOR_SETTINGS.deniedCidrs;
const PROBE_TIMEOUT_MS = 5_000;

export interface HttpProberOptions {
  /** Service domain → the base URL its gateway is reached at (http or https). */
  gateways?: ReadonlyMap<string, string>;
  /** Ranges denied besides the private ones (the cluster's own networks). */
  deniedCidrs?: readonly string[];
  timeoutMs?: number;
}

/** Most of a probe's detail kept (status.endpoints[].lastProbe holds 512 characters). */
const MAX_DETAIL = 200;

function shortened(detail: string): string {
  return detail.length <= MAX_DETAIL ? detail : `${detail.slice(0, MAX_DETAIL - 1)}…`;
}

/**
 * Headers that frame the message or steer the connection are Node's to set: a definition's
 * Content-Length or Connection would let its body carry a second request through the gateway.
 */
const FRAMING_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'host',
]);

function endToEndHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !FRAMING_HEADERS.has(name.toLowerCase()) && !name.toLowerCase().startsWith('proxy-')),
  );
}

export class HttpProber implements Prober {
  readonly #gateways: ReadonlyMap<string, string>;
  readonly #guard: AddressGuard;
  readonly #timeoutMs: number;

  constructor(options: HttpProberOptions = {}) {
    this.#gateways = options.gateways ?? new Map();
    this.#guard = new AddressGuard([...SHARED_CLUSTER_DENIED, ...(options.deniedCidrs ?? [])]);
    this.#timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  }

  async probe(url: string, check: HttpHealthCheck, signal?: AbortSignal): Promise<ProbeOutcome> {
    const what = `${check.method.slice(0, 16)} ${check.path.split('?')[0]?.slice(0, 80) ?? ''}`;
    let service: URL;
    try {
      service = new URL(url);
    } catch {
      return { ok: false, detail: shortened(`${what}: not a URL`) };
    }
    const gateway = this.#gatewayFor(service.hostname);
    let target: URL;
    if (gateway !== undefined) {
      target = new URL(gateway);
    } else {
      // The name's resolver is the tenant's to choose: the lookup gets the probe's deadline too.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`${service.hostname} did not resolve within ${this.#timeoutMs / 1000}s`), this.#timeoutMs);
      });
      const refused = await Promise.race([
        this.#guard
          .refusal(url)
          .catch((error: unknown) => `${service.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`),
        deadline,
      ]).finally(() => clearTimeout(timer));
      if (refused !== undefined) return { ok: false, detail: shortened(`${what}: ${refused}`) };
      target = service;
    }
    const path = check.path.startsWith('/') ? check.path : `/${check.path}`;
    const body =
      check.body !== undefined && check.body !== '' && (check.method === 'POST' || check.method === 'PUT') ? check.body : undefined;
    const options: RequestOptions = {
      // An IPv6 address is bracketed in a URL, never in a socket's host.
      host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port === '' ? undefined : Number(target.port),
      method: check.method,
      path,
      headers: { accept: '*/*', ...endToEndHeaders(check.headers), host: service.host },
      agent: false,
      ...(signal === undefined ? {} : { signal }),
    };
    if (gateway === undefined) {
      (options as RequestOptions & { servername?: string }).servername = service.hostname;
      // the connection resolves the name again: through the guard, so a rebound name is refused
      options.lookup = this.#guard.lookup;
    }
    return new Promise((settle) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      let deadline: NodeJS.Timeout | undefined;
      const resolve = (outcome: ProbeOutcome): void => {
        clearTimeout(deadline);
        settle({ ...outcome, detail: shortened(outcome.detail) });
      };
      try {
        const outgoing = send(options, (response: IncomingMessage) => {
          response.resume();
          const status = response.statusCode ?? 0;
          resolve(
            status === check.expected_status
              ? { ok: true, detail: `${what}: answered ${status}` }
              : { ok: false, detail: `${what}: answered ${status}, expected ${check.expected_status}` },
          );
          outgoing.destroy();
        });
        // A deadline for the whole answer, not an idle timeout: a server sending a byte now and
        // then would otherwise hold the reconcile that probes it for as long as it likes.
        deadline = setTimeout(() => {
          resolve({ ok: false, detail: `${what}: no answer within ${this.#timeoutMs / 1000}s` });
          outgoing.destroy();
        }, this.#timeoutMs);
        outgoing.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ ok: false, detail: `${what}: ${error.code ?? 'connection failed'}` }),
        );
        try {
          outgoing.end(body);
        } catch (error) {
          outgoing.destroy();
          throw error;
        }
      } catch (error) {
        // Node refuses a method, path, header or body it cannot put on the wire: the definition's
        // mistake, so a failing probe, never an exception that fails the whole reconcile.
        resolve({ ok: false, detail: `${what}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be sent'}` });
      }
    });
  }

  #gatewayFor(host: string): string | undefined {
    for (const [domain, base] of this.#gateways) if (host === domain || host.endsWith(`.${domain}`)) return base;
    return undefined;
  }
}
