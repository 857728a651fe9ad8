export { API_VERSION, GROUP, VERSION, type Condition } from './common.ts';
export { buildCrd, CATEGORIES, type CrdDefinition } from './crd.ts';
export { nosanaJobCrd, nosanaJobSpec, nosanaJobStatus, NOSANA_JOB_PHASES, type NosanaJobPhase, type NosanaJobSpec, type NosanaJobStatus } from './nosana-job.ts';
export { nosanaMarketCrd, nosanaMarketSpec, nosanaMarketStatus, NOSANA_NETWORKS, type NosanaMarketSpec, type NosanaMarketStatus } from './nosana-market.ts';
export { nosanaDeploymentCrd, nosanaDeploymentSpec, nosanaDeploymentStatus, NOSANA_DEPLOYMENT_PHASES, type NosanaDeploymentPhase, type NosanaDeploymentSpec, type NosanaDeploymentStatus } from './nosana-deployment.ts';
export { nosanaNodeCrd, nosanaNodeSpec, nosanaNodeStatus, NOSANA_NODE_PHASES, type NosanaNodePhase, type NosanaNodeSpec, type NosanaNodeStatus } from './nosana-node.ts';

import { nosanaJobCrd } from './nosana-job.ts';
import { nosanaMarketCrd } from './nosana-market.ts';
import { nosanaNodeCrd } from './nosana-node.ts';
import { nosanaDeploymentCrd } from './nosana-deployment.ts';

export const ALL_CRDS = [nosanaJobCrd, nosanaMarketCrd, nosanaNodeCrd, nosanaDeploymentCrd];
