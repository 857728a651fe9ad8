// The JSON-RPC 2.0 envelope: single and batch requests, notifications, and the standard errors
// for unparsable or malformed requests and unknown methods.
import type { LocalChain } from '../chain.ts';
import { accountMethods } from './account-methods.ts';
import { clusterMethods } from './cluster-methods.ts';
import { historyMethods } from './history-methods.ts';
import type { Params } from './params.ts';
import { RPC_ERROR, RpcError } from './rpc-error.ts';
import { tokenMethods } from './token-methods.ts';
import { transactionMethods } from './transaction-methods.ts';

type RpcMethod = (params: Params, chain: LocalChain) => unknown;

const METHODS: Record<string, RpcMethod> = {
  ...clusterMethods,
  ...accountMethods,
  ...tokenMethods,
  ...transactionMethods,
  ...historyMethods,
};

export const RPC_METHOD_NAMES: readonly string[] = Object.keys(METHODS);

export type RequestId = string | number | null;

export interface RpcResponse {
  jsonrpc: '2.0';
  id: RequestId;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export function errorResponse(id: RequestId, error: RpcError): RpcResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) },
  };
}

export function isRequestId(value: unknown): value is RequestId {
  return value === null || typeof value === 'string' || typeof value === 'number';
}

/** Answers one request; undefined for a notification (a request without id). */
function answer(request: unknown, chain: LocalChain): RpcResponse | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return errorResponse(null, new RpcError(RPC_ERROR.invalidRequest, 'Invalid request'));
  }
  const fields = request as Record<string, unknown>;
  const id = isRequestId(fields['id']) ? fields['id'] : null;
  const params = fields['params'] ?? [];
  if (
    fields['jsonrpc'] !== '2.0' ||
    typeof fields['method'] !== 'string' ||
    !Array.isArray(params) ||
    !('id' in fields ? isRequestId(fields['id']) : true)
  ) {
    return errorResponse(id, new RpcError(RPC_ERROR.invalidRequest, 'Invalid request'));
  }
  const isNotification = !('id' in fields);
  const method = Object.hasOwn(METHODS, fields['method']) ? METHODS[fields['method']] : undefined;
  let response: RpcResponse;
  if (!method) {
    response = errorResponse(id, new RpcError(RPC_ERROR.methodNotFound, 'Method not found'));
  } else {
    try {
      response = { jsonrpc: '2.0', id, result: method(params, chain) };
    } catch (error) {
      const rpcError =
        error instanceof RpcError
          ? error
          : new RpcError(RPC_ERROR.internalError, `Internal error: ${error instanceof Error ? error.message : String(error)}`);
      response = errorResponse(id, rpcError);
    }
  }
  return isNotification ? undefined : response;
}

/** The response body for a request body; undefined when there is nothing to answer. */
export function handleJsonRpc(body: string, chain: LocalChain): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return JSON.stringify(errorResponse(null, new RpcError(RPC_ERROR.parseError, 'Parse error')));
  }
  if (!Array.isArray(parsed)) {
    const response = answer(parsed, chain);
    return response && JSON.stringify(response);
  }
  if (parsed.length === 0) return JSON.stringify(errorResponse(null, new RpcError(RPC_ERROR.invalidRequest, 'Invalid request')));
  const responses = parsed.map((request) => answer(request, chain)).filter((r) => r !== undefined);
  return responses.length > 0 ? JSON.stringify(responses) : undefined;
}
