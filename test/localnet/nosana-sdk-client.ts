// Nosana's SDK configured as a user points it at a running localnet: its RPC (the websocket is
// found on the port + 1), program ids, NOS mint, market and IPFS endpoints, signing as `wallet`.
import { Client } from '@nosana/sdk';
import type { Keypair } from '@solana/web3.js';
import { LOCALNET, type Localnet } from '../../src/localnet/localnet.ts';

export function sdkClient(localnet: Localnet, wallet: Keypair = localnet.poster): Client {
  return new Client('devnet', Array.from(wallet.secretKey), {
    solana: {
      network: localnet.info.rpcUrl,
      jobs_address: localnet.info.jobsProgram,
      nos_address: localnet.info.nosMint,
      market_address: localnet.info.market,
      stake_address: localnet.info.stakingProgram,
      rewards_address: LOCALNET.rewardsProgram.toBase58(),
    },
    ipfs: { api: localnet.info.ipfsApiUrl, gateway: localnet.info.gatewayUrl, jwt: '' },
  });
}
