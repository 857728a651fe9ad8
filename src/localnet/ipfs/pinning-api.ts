// The pinning endpoints of the localnet IPFS service, shaped like the services the operator talks
// to in production: Pinata's pinFileToIPFS / pinJSONToIPFS and Kubo's RPC `add`. Only CIDv0 with
// the default import parameters is offered, since only that is storable on chain and verifiable by
// the operator's gateway reader; asking for anything else is a 400 that says so.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ContentRejectedError, type ContentStore, type StoredContent } from './content-store.ts';
import type { FaultSettings } from './faults.ts';
import { fileField, HttpProblem, parseJson, parseMultipart, readBody, sendJson } from './http-io.ts';

export interface PinningContext {
  store: ContentStore;
  faults: FaultSettings;
}

// Room for multipart boundaries and the pinataOptions / pinataMetadata fields around the content.
const ENVELOPE_BYTES = 1024 * 1024;

export async function pinFileToIpfs(context: PinningContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request, context.store.maxObjectBytes + ENVELOPE_BYTES);
  const form = await parseMultipart(request, body);
  checkPinataOptions(jsonField(form, 'pinataOptions'));
  jsonField(form, 'pinataMetadata'); // must be valid JSON, as for Pinata; the localnet keeps no metadata
  const { bytes } = await fileField(form, 'file');
  injectPinFault(context);
  sendJson(response, 200, pinataAnswer(await store(context, bytes)));
}

/**
 * Accepts both documented bodies: `{pinataContent, pinataOptions?, pinataMetadata?}` and, the older
 * form, the JSON object itself. Stores `JSON.stringify(pinataContent)`, the serialisation the
 * operator's Pinata client assumes and hashes.
 */
export async function pinJsonToIpfs(context: PinningContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request, context.store.maxObjectBytes + ENVELOPE_BYTES);
  const parsed = parseJson(body.toString('utf8'), 'the request body');
  const wrapped = isJsonObject(parsed) && 'pinataContent' in parsed;
  const content = wrapped ? parsed['pinataContent'] : parsed;
  if (wrapped) checkPinataOptions(parsed['pinataOptions']);
  if (!isJsonObject(content)) {
    throw new HttpProblem(400, 'BAD_REQUEST', 'pinataContent must be a JSON object; pin other JSON values with pinFileToIPFS');
  }
  injectPinFault(context);
  sendJson(response, 200, pinataAnswer(await store(context, new TextEncoder().encode(JSON.stringify(content)))));
}

// Kubo's defaults for CIDv0; each entry is the only value the localnet accepts for that parameter.
const KUBO_ADD_PARAMETERS: Record<string, string> = {
  'cid-version': '0',
  'raw-leaves': 'false',
  chunker: 'size-262144',
  trickle: 'false',
  hash: 'sha2-256',
  'wrap-with-directory': 'false',
};

/** Kubo's `POST /api/v0/add` for one file; the answer is the line Kubo prints for it. */
export async function kuboAdd(
  context: PinningContext,
  request: IncomingMessage,
  response: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  for (const [parameter, accepted] of Object.entries(KUBO_ADD_PARAMETERS)) {
    const given = query.get(parameter);
    if (given !== null && given !== accepted) {
      throw new HttpProblem(400, 'UNSUPPORTED', `the localnet only adds with ${parameter}=${accepted} (got ${given})`);
    }
  }
  const body = await readBody(request, context.store.maxObjectBytes + ENVELOPE_BYTES);
  const { bytes, name } = await fileField(await parseMultipart(request, body), 'file');
  injectPinFault(context);
  const stored = await store(context, bytes);
  // Kubo reports the DAG size; the localnet reports the file size, which is all clients use it for.
  sendJson(response, 200, { Name: name, Hash: stored.cid, Size: String(stored.size) });
}

async function store(context: PinningContext, bytes: Uint8Array): Promise<StoredContent> {
  try {
    return await context.store.add(bytes);
  } catch (error) {
    if (error instanceof ContentRejectedError) throw new HttpProblem(413, 'PAYLOAD_TOO_LARGE', error.message);
    throw error;
  }
}

function injectPinFault(context: PinningContext): void {
  if (context.faults.strikes(context.faults.pinErrorRate)) {
    throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'localnet fault injection: pinning is failing (pinErrorRate)');
  }
}

function pinataAnswer(stored: StoredContent): Record<string, unknown> {
  return { IpfsHash: stored.cid, PinSize: stored.size, Timestamp: new Date().toISOString(), isDuplicate: stored.duplicate };
}

function jsonField(form: FormData, field: string): unknown {
  const value = form.get(field);
  if (value === null) return undefined;
  if (typeof value !== 'string') throw new HttpProblem(400, 'BAD_REQUEST', `multipart field ${field} must be a JSON string, not a file`);
  return parseJson(value, `multipart field ${field}`);
}

function checkPinataOptions(options: unknown): void {
  if (options === undefined) return;
  if (!isJsonObject(options)) throw new HttpProblem(400, 'BAD_REQUEST', 'pinataOptions must be a JSON object');
  const { cidVersion, wrapWithDirectory } = options;
  if (cidVersion !== undefined && cidVersion !== 0 && cidVersion !== '0') {
    throw new HttpProblem(
      400,
      'UNSUPPORTED',
      `the localnet pins with CID version 0 only (pinataOptions.cidVersion is ${JSON.stringify(cidVersion)})`,
    );
  }
  if (wrapWithDirectory === true) {
    throw new HttpProblem(400, 'UNSUPPORTED', 'the localnet does not wrap content in a directory (pinataOptions.wrapWithDirectory)');
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
