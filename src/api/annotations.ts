// Annotations the operator writes on its resources. Kept in metadata rather than status
// because backup/restore and some GitOps tools drop status, and these must survive.

/** The on-chain job a NosanaJob posted or adopted. */
export const JOB_ADDRESS_ANNOTATION = 'nosana.io/job-address';
/** The prepared post recorded before broadcast (create-once). */
export const PENDING_POST_ANNOTATION = 'nosana.io/pending-post';
/**
 * Set by a person to settle a post whose outcome the RPC could not tell (reason
 * PostOutcomeUnknown): "landed" when the job exists (the operator adopts it), "not-landed" when
 * it is certain the post never landed (the operator may prepare a new one). Removed once acted on.
 */
export const CONFIRM_POST_ANNOTATION = 'nosana.io/confirm-post';
export const CONFIRM_POST_VALUES = ['landed', 'not-landed'] as const;
/** The finalizer that cancels the on-chain job (delist or end) before a NosanaJob goes away. */
export const NOSANA_JOB_FINALIZER = 'nosana.io/cancel-job';
/**
 * The finalizer that keeps a NosanaNode until its node has drained: the run it holds ended (its
 * finish, complete or quit settled on chain) and the node out of its market's queue. Without it a
 * deleted node would leave the job it holds unfinished, and its entry in the queue would still be
 * given jobs that nobody runs.
 */
export const NOSANA_NODE_FINALIZER = 'nosana.io/drain-node';
/**
 * Every annotation under this prefix on a NosanaJob is the operator's to write, except
 * CONFIRM_POST_ANNOTATION (the admission policy enforces it).
 */
export const OPERATOR_ANNOTATION_PREFIX = 'nosana.io/';
/**
 * The label a Secret needs before the operator sends its content over the network, with the use
 * it is meant for: a NosanaMarket's spec.ipfs.pinning.credentialsSecretRef may name only a Secret
 * labelled `nosana.io/use=pinning`, its spec.rpc.headersSecretRef only one labelled
 * `nosana.io/use=rpc-headers`. Otherwise whoever may edit a NosanaMarket could have any Secret of
 * its namespace (a wallet) sent to a URL of their choosing. Secrets used only to sign (wallets,
 * node keys) never leave the operator and need no label.
 */
export const SECRET_USE_LABEL = 'nosana.io/use';
export const SECRET_USE_VALUES = ['pinning', 'rpc-headers'] as const;
export type SecretUse = (typeof SECRET_USE_VALUES)[number];
