// The localnet's read-only gateway: `GET /ipfs/<cid>` serves the stored bytes, subject to the
// injected faults (delay, 503s, corrupted bytes) that let clients prove their fallbacks work.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { cidV0Problem } from '../../ipfs/cid.ts';
import type { ContentStore } from './content-store.ts';
import { corrupt, type FaultSettings } from './faults.ts';
import { HttpProblem } from './http-io.ts';

export interface GatewayContext {
  store: ContentStore;
  faults: FaultSettings;
  /** Aborted when the server closes, ending injected delays. */
  closing: AbortSignal;
}

export async function serveContent(
  context: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
  cid: string,
): Promise<void> {
  const problem = cidV0Problem(cid);
  if (problem !== undefined) throw new HttpProblem(400, 'BAD_CID', problem);
  const { faults } = context;
  if (faults.gatewayDelayMs > 0) await sleep(faults.gatewayDelayMs, undefined, { signal: context.closing });
  if (faults.strikes(faults.gatewayErrorRate)) {
    throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'localnet fault injection: the gateway is failing (gatewayErrorRate)');
  }
  const bytes = context.store.get(cid);
  if (bytes === undefined) throw new HttpProblem(404, 'NOT_FOUND', `${cid} is not stored on the localnet`);
  const served = faults.strikes(faults.corruptRate) ? corrupt(bytes) : bytes;
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': served.length,
    etag: `"${cid}"`,
    'x-ipfs-path': `/ipfs/${cid}`,
  });
  response.end(request.method === 'HEAD' ? undefined : served);
}
