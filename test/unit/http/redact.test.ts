// Credentials out of text, as tables: what goes, and what stays for the person debugging (scheme,
// host, port, path shape, parameter names, public content addresses, ordinary prose).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactError, redactSecrets, redactUrl, urlOrigin } from '../../../src/http/redact.ts';
import { endpointOrigin } from '../../../src/chain/network-detect.ts';

const R = REDACTED;

interface Case {
  reason: string;
  text: string;
  want: string;
}

const TEXT_CASES: readonly Case[] = [
  {
    reason: 'userinfo (user:pass) goes, the host and port stay',
    text: 'fetch failed for https://alice:s3cr3t@rpc.example.com:8899/ now',
    want: `fetch failed for https://${R}@rpc.example.com:8899/ now`,
  },
  {
    reason: 'a bare key as the username is a credential too',
    text: 'wss://0123abcd@ws.example/',
    want: `wss://${R}@ws.example/`,
  },
  {
    reason: 'the undici message for a URL with credentials, with a query key',
    text: 'Request cannot be constructed from a URL that includes credentials: http://user:secretpass@127.0.0.1:1/?api-key=SECRETKEY',
    want: `Request cannot be constructed from a URL that includes credentials: http://${R}@127.0.0.1:1/?api-key=${R}`,
  },
  {
    reason: 'Helius: ?api-key= goes, other parameters stay',
    text: 'https://mainnet.helius-rpc.com/?api-key=1b2c3d4e-aaaa&commitment=confirmed',
    want: `https://mainnet.helius-rpc.com/?api-key=${R}&commitment=confirmed`,
  },
  {
    reason: 'credential parameter names are matched case-insensitively, "-" and "_" ignored',
    text: 'https://h/x?APIKEY=a&Key=b&token=c&Access_Token=d&auth=e&x-amz-signature=f&sig=g&page=2',
    want: `https://h/x?APIKEY=${R}&Key=${R}&token=${R}&Access_Token=${R}&auth=${R}&x-amz-signature=${R}&sig=${R}&page=2`,
  },
  {
    reason: 'a token in the fragment (OAuth implicit flow) goes too',
    text: 'https://h/cb#access_token=abc&state=7',
    want: `https://h/cb#access_token=${R}&state=7`,
  },
  {
    reason: 'QuickNode: an opaque path segment goes',
    text: 'https://x.solana-mainnet.quiknode.pro/abcdef0123456789abcdef0123456789abcdef01/',
    want: `https://x.solana-mainnet.quiknode.pro/${R}/`,
  },
  {
    reason: 'Alchemy: an opaque key after /v2/, with sentence punctuation after the URL',
    text: 'could not reach (https://solana-mainnet.g.alchemy.com/v2/AbCdEf0123456789AbCdEf0123456789).',
    want: `could not reach (https://solana-mainnet.g.alchemy.com/v2/${R}).`,
  },
  {
    reason: 'a segment after one named api-key goes whatever it looks like; later ones stay',
    text: 'https://api.example.io/api-key/short/rpc',
    want: `https://api.example.io/api-key/${R}/rpc`,
  },
  {
    reason: 'a CID after /ipfs/ is a public address and stays',
    text: 'https://gw.example/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
    want: 'https://gw.example/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
  },
  {
    reason: 'short or wordy path segments stay',
    text: 'https://h/api/v0/add?cid-version=0&pin=true and https://h/markets/some-long-market-name-here/',
    want: 'https://h/api/v0/add?cid-version=0&pin=true and https://h/markets/some-long-market-name-here/',
  },
  {
    reason: 'an Authorization header echoed in text keeps its scheme, loses its value',
    text: 'request headers: Authorization: Bearer eyJhbGciOi.eyJzdWIiOjF9.c2ln, Accept: */*',
    want: `request headers: Authorization: ${'Bearer'} ${R}, Accept: */*`,
  },
  {
    reason: 'headers as JSON: authorization and x-api-key values go',
    text: '{"authorization":"Basic dXNlcjpwYXNz","x-api-key":"k-123","accept":"application/json"}',
    want: `{"authorization":"Basic ${R}","x-api-key":"${R}","accept":"application/json"}`,
  },
  {
    reason: 'a Bearer token on its own',
    text: 'sent bearer abc.DEF-123_x/y+z== upstream',
    want: `sent bearer ${R} upstream`,
  },
  {
    reason: 'name=value pairs naming a key, token, secret, password or JWT',
    text: 'api_key=abc client_secret: xyz password=hunter2 pinataJwt=eyJ.x.y',
    want: `api_key=${R} client_secret: ${R} password=${R} pinataJwt=${R}`,
  },
  {
    reason: 'text without credentials is unchanged',
    text: 'RPC getSlot failed: fetch failed (connect ECONNREFUSED 127.0.0.1:8899); the wallet Secret "team/w" lacks key "id.json"; 3 tokens left',
    want: 'RPC getSlot failed: fetch failed (connect ECONNREFUSED 127.0.0.1:8899); the wallet Secret "team/w" lacks key "id.json"; 3 tokens left',
  },
  {
    reason: 'a URL without credentials is unchanged',
    text: 'http://127.0.0.1:8899/',
    want: 'http://127.0.0.1:8899/',
  },
];

describe('redactSecrets', () => {
  for (const { reason, text, want } of TEXT_CASES) {
    test(reason, () => {
      assert.equal(redactSecrets(text), want);
    });
  }

  test('redacting twice changes nothing more', () => {
    for (const { text } of TEXT_CASES) assert.equal(redactSecrets(redactSecrets(text)), redactSecrets(text));
  });
});

describe('redactUrl', () => {
  test('one URL: credentials go, the rest stays as written', () => {
    assert.equal(redactUrl('https://u:p@Host.Example:443/a/b?x=1&token=t#f'), `https://${R}@Host.Example:443/a/b?x=1&token=${R}#f`);
    assert.equal(redactUrl('http://u:p@h'), `http://${R}@h`);
  });

  test('text without a scheme is returned as it is', () => {
    assert.equal(redactUrl('rpc.example:8899'), 'rpc.example:8899');
  });
});

describe('urlOrigin and endpointOrigin (naming an endpoint)', () => {
  test('scheme, host and port only', () => {
    assert.equal(urlOrigin('https://user:pass@rpc.example.com:8443/v2/KEY?api-key=K'), 'https://rpc.example.com:8443');
    assert.equal(endpointOrigin('https://user:pass@rpc.example.com/v2/KEY?api-key=K'), 'https://rpc.example.com');
  });

  test('no origin: undefined, or "the RPC" when naming one', () => {
    assert.equal(urlOrigin('not a url'), undefined);
    assert.equal(urlOrigin('localhost:8899'), undefined, 'a scheme without an origin');
    assert.equal(endpointOrigin('localhost:8899'), 'the RPC');
  });
});

describe('redactError', () => {
  test('an error with nothing to redact is returned as it is', () => {
    const error = Object.assign(new RangeError('no route to host', { cause: new Error('EHOSTUNREACH') }), { code: 'E_X' });
    assert.equal(redactError(error), error);
  });

  test('a cause chain quoting a URL: every message and stack redacted, name and code kept', () => {
    const inner = Object.assign(new Error('connect to http://u:secretpass@h:1/?api-key=SECRETKEY refused'), { code: 'ECONNREFUSED' });
    const outer = new TypeError('fetch failed', { cause: inner });
    const redacted = redactError(outer) as Error;
    assert.equal(redacted.name, 'TypeError');
    assert.equal(redacted.message, 'fetch failed');
    const cause = redacted.cause as Error & { code?: string };
    assert.equal(cause.message, `connect to http://${R}@h:1/?api-key=${R} refused`);
    assert.equal(cause.code, 'ECONNREFUSED');
    for (const text of [String(redacted), redacted.stack ?? '', cause.stack ?? '', String(cause)]) {
      assert.equal(/secretpass|SECRETKEY/.test(text), false, text);
    }
  });

  test('a cycle in the cause chain ends', () => {
    const error = new Error('loop at https://h/?token=T');
    (error as { cause?: unknown }).cause = error;
    assert.doesNotMatch((redactError(error) as Error).message, /=T\b/);
  });

  test('strings are redacted, other values left alone', () => {
    assert.equal(redactError('Bearer abc123'), `Bearer ${R}`);
    assert.equal(redactError(42), 42);
  });
});
