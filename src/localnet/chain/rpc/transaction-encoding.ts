// Decoding transactions and messages sent to the RPC (base58 or base64) and turning the processor's
// refusals into the JSON-RPC errors Solana answers.
import bs58 from 'bs58';
import { decodeMessage, decodeWireTransaction, MalformedTransaction, type MessageView, type WireTransaction } from '../wire-transaction.ts';
import { optionalString, type Config } from './params.ts';
import { invalidParams } from './rpc-error.ts';

function decodeText(text: string, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(text, 'base64');
  if (encoding !== 'base58') throw invalidParams(`Invalid params: unsupported encoding: ${encoding}. Supported encodings: base58, base64`);
  try {
    return Buffer.from(bs58.decode(text));
  } catch {
    throw invalidParams('invalid base58 encoding');
  }
}

/** The transaction of sendTransaction/simulateTransaction; Solana's default encoding is base58. */
export function transactionParam(text: string, config: Config): WireTransaction {
  const bytes = decodeText(text, optionalString(config, 'encoding') ?? 'base58');
  try {
    return decodeWireTransaction(bytes);
  } catch (error) {
    if (error instanceof MalformedTransaction) throw invalidParams(`invalid transaction: ${error.message}`);
    throw error;
  }
}

export function messageParam(text: string): MessageView {
  try {
    return decodeMessage(Buffer.from(text, 'base64'));
  } catch (error) {
    if (error instanceof MalformedTransaction) throw invalidParams(`invalid message: ${error.message}`);
    throw error;
  }
}
