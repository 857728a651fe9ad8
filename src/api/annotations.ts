// Annotations the operator writes on its resources. Kept in metadata rather than status
// because backup/restore and some GitOps tools drop status, and these must survive.

/** The on-chain job a NosanaJob posted or adopted. */
export const JOB_ADDRESS_ANNOTATION = 'nosana.io/job-address';
/** The prepared post recorded before broadcast (create-once). */
export const PENDING_POST_ANNOTATION = 'nosana.io/pending-post';
