// Reading requests and writing responses for the localnet IPFS server on top of node:http.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the server refuses; `status` is the HTTP status, `reason` a short machine-readable code. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'HttpProblem';
    this.status = status;
    this.reason = reason;
  }
}

/**
 * The whole request body, refused with 413 when it passes `limit` bytes. A body announced as too
 * large is refused before reading; one that turns out too large is read to its end (keeping
 * nothing) so the client, still uploading, gets the 413 rather than a reset connection.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on('end', () => {
      if (length > limit) reject(tooLarge(limit));
      else resolve(Buffer.concat(chunks, length));
    });
    request.on('error', reject);
  });
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`);
}

/** The multipart form of a buffered request, parsed by the platform's Request/FormData. */
export async function parseMultipart(request: IncomingMessage, body: Buffer): Promise<FormData> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
    throw new HttpProblem(400, 'BAD_REQUEST', `expected a multipart/form-data body, got content-type ${JSON.stringify(contentType)}`);
  }
  try {
    return await new Request('http://localnet.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch (error) {
    throw new HttpProblem(400, 'BAD_REQUEST', `the multipart body could not be parsed: ${(error as Error).message}`);
  }
}

/** The bytes of a file field of a multipart form. */
export async function fileField(form: FormData, field: string): Promise<{ bytes: Uint8Array; name: string }> {
  const value = form.get(field);
  if (value === null || typeof value === 'string') {
    throw new HttpProblem(400, 'BAD_REQUEST', `multipart field ${JSON.stringify(field)} with the file content is missing`);
  }
  return { bytes: new Uint8Array(await value.arrayBuffer()), name: value.name };
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpProblem(400, 'BAD_REQUEST', `${what} is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = `${JSON.stringify(value)}\n`;
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

export function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  response.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
