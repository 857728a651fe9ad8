// The part of NosanaJob validation that CRD rules cannot express, as a
// ValidatingAdmissionPolicy (evaluated by the API server itself: no webhook to run, no
// certificates, nothing to fail open when the operator is down).
//
// Why not CRD CEL: fields whose Nosana type is a union (cmd, entrypoint, expose) must be
// declared without a type, and the CRD rule compiler cannot see typeless fields; and
// comparing two unbounded JSON documents (definition immutability) exceeds the CRD rule
// cost *estimate*, while an admission policy is bounded by its actual runtime cost.
// The rules about changes after posting live here too, because a policy also sees the
// annotations (which survive a backup/restore that drops status) and who is asking.
//
// Only the operator writes nosana.io/* annotations: they are its create-once records and
// point at the on-chain job, so a tenant writing another team's job address there and then
// deleting the resource would cancel that team's job. On UPDATE, adding, changing or removing
// one is refused unless the requester may `operate` nosanajobs.nosana.io *cluster-wide* (an RBAC
// check through the policy's authorizer; the chart grants it to the release's ServiceAccount,
// and system:masters has it). nosana.io/confirm-post stays a person's answer, checked for its
// value only. CREATE accepts them all: restores from Git or a backup carry them, and the
// controller verifies a restored record on chain.
// Why an RBAC verb rather than a params ConfigMap listing the operator's user names: a
// binding whose param is missing can only Deny (or Allow) *every* request it matches, before
// any matchCondition runs, so failing closed would freeze all NosanaJob updates (finalizer
// removal included) and failing open would drop the rule. A verb nobody holds fails closed for
// exactly these writes and nothing else, needs no object to go missing, lets several releases
// each grant their own ServiceAccount, and is audited where admins already look (`kubectl auth
// can-i operate nosanajobs.nosana.io -A --as=...`). Checked cluster-wide, it cannot come from a
// RoleBinding: a team's namespace-wide wildcard Role does not make it the operator.
import { GROUP, VERSION } from './common.ts';
import { CONFIRM_POST_ANNOTATION, CONFIRM_POST_VALUES, JOB_ADDRESS_ANNOTATION, OPERATOR_ANNOTATION_PREFIX, PENDING_POST_ANNOTATION } from '../annotations.ts';

export const NOSANA_JOB_POLICY_NAME = 'nosanajob-definition.nosana.io';
/** The RBAC verb on nosanajobs.nosana.io, granted cluster-wide, that lets an identity write nosana.io annotations. */
export const NOSANA_JOB_OPERATOR_VERB = 'operate';
/** The rule granting it, for the operator's ClusterRole. */
export const NOSANA_JOB_OPERATOR_RULE = { apiGroups: [GROUP], resources: ['nosanajobs'], verbs: [NOSANA_JOB_OPERATOR_VERB] };

interface PolicyValidation {
  expression: string;
  messageExpression: string;
  reason: 'Invalid' | 'Forbidden';
}

const OPS = 'variables.ops';

function isStringOrStrings(x: string): string {
  return `(type(${x}) == string || (type(${x}) == list && ${x}.all(s, type(s) == string)))`;
}

function isExpose(x: string): string {
  const single = (y: string) => `type(${y}) == int || type(${y}) == string || type(${y}) == map`;
  return `(${single(x)} || (type(${x}) == list && ${x}.all(e, ${single('e')})))`;
}

/** A rule over one args field of every op, whose message names the first offending op's index. */
function opArgsFieldRule(field: string, ok: (x: string) => string, expectation: string): PolicyValidation {
  const valid = (op: string) => `(!has(${op}.args) || !has(${op}.args.${field}) || ${ok(`${op}.args.${field}`)})`;
  return {
    expression: `${OPS}.all(op, ${valid('op')})`,
    messageExpression: `'spec.definition.ops[' + string(lists.range(size(${OPS})).filter(i, !${valid(`${OPS}[i]`)})[0]) + '].args.${field}: ${expectation}'`,
    reason: 'Invalid',
  };
}

/** A timeout (seconds, or a duration string) as a CEL duration. */
function seconds(x: string): string {
  return `(type(${x}) == int ? duration(string(${x}) + 's') : duration(${x}))`;
}

/** The field is present in both or neither, and equal. */
function unchanged(field: string): string {
  return `has(object.${field}) == has(oldObject.${field}) && (!has(object.${field}) || object.${field} == oldObject.${field})`;
}

const POSTED = 'variables.posted';
const isOperatorKey = (k: string) => `${k}.startsWith('${OPERATOR_ANNOTATION_PREFIX}') && ${k} != '${CONFIRM_POST_ANNOTATION}'`;

export function nosanaJobAdmissionPolicy(): object[] {
  const validations: PolicyValidation[] = [
    opArgsFieldRule('cmd', isStringOrStrings, 'must be a string or an array of strings'),
    opArgsFieldRule('entrypoint', isStringOrStrings, 'must be a string or an array of strings'),
    opArgsFieldRule('aliases', isStringOrStrings, 'must be a string or an array of strings'),
    opArgsFieldRule('expose', isExpose, 'must be a port number, an exposed-port object, a literal string, or an array of those'),
    {
      expression: `!has(variables.global.entrypoint) || ${isStringOrStrings('variables.global.entrypoint')}`,
      messageExpression: "'spec.definition.global.entrypoint: must be a string or an array of strings'",
      reason: 'Invalid',
    },
    {
      // the status is the operator's record too (it restores annotations from it and trusts the
      // attempts it lists): a tenant with a wildcard Role could otherwise write a victim's job into it
      expression: `!has(request.subResource) || request.subResource != 'status' || authorizer.group('${GROUP}').resource('nosanajobs').check('${NOSANA_JOB_OPERATOR_VERB}').allowed()`,
      messageExpression: "'status: only the operator writes the status of a NosanaJob (it records the job on chain)'",
      reason: 'Forbidden',
    },
    {
      // the operator's records: a tenant could otherwise point its resource at another team's job
      expression: `request.operation != 'UPDATE' || size(variables.operatorAnnotationsChanged) == 0 || authorizer.group('${GROUP}').resource('nosanajobs').check('${NOSANA_JOB_OPERATOR_VERB}').allowed()`,
      messageExpression: `variables.operatorAnnotationsChanged.map(k, 'metadata.annotations[' + k + ']').join(', ') + ': only the operator may add, change or remove ${OPERATOR_ANNOTATION_PREFIX}* annotations (they record the job on chain); a person may set ${CONFIRM_POST_ANNOTATION}'`,
      reason: 'Forbidden',
    },
    {
      expression: `request.operation != 'UPDATE' || !('${CONFIRM_POST_ANNOTATION}' in variables.annotations) || ('${CONFIRM_POST_ANNOTATION}' in variables.oldAnnotations && variables.oldAnnotations['${CONFIRM_POST_ANNOTATION}'] == variables.annotations['${CONFIRM_POST_ANNOTATION}']) || variables.annotations['${CONFIRM_POST_ANNOTATION}'] in ${JSON.stringify(CONFIRM_POST_VALUES).replace(/"/g, "'")}`,
      messageExpression: `'metadata.annotations[${CONFIRM_POST_ANNOTATION}]: must be ${CONFIRM_POST_VALUES.map((v) => `"${v}"`).join(' or ')}'`,
      reason: 'Invalid',
    },
    {
      expression: `!${POSTED} || object.spec.market == oldObject.spec.market`,
      messageExpression: "'spec.market: cannot change once the job is posted; create a new NosanaJob instead'",
      reason: 'Forbidden',
    },
    {
      // an extension is paid on chain; a shorter timeout cannot be taken back. Setting one where
      // none was set is accepted: the market's timeout was posted, and the controller compares.
      expression: `!${POSTED} || !has(oldObject.spec.timeout) || (has(object.spec.timeout) && ${seconds('object.spec.timeout')} >= ${seconds('oldObject.spec.timeout')})`,
      messageExpression: "'spec.timeout: can only grow once the job is posted, and cannot be removed (an extension is paid on chain)'",
      reason: 'Forbidden',
    },
    {
      // What was paid for cannot change: a posted job keeps its definition.
      expression: `!${POSTED} || (${unchanged('spec.definition')} && ${unchanged('spec.definitionFrom')})`,
      messageExpression: "'spec.definition: cannot change once the job is posted (' + variables.postedJob + '); create a new NosanaJob instead'",
      reason: 'Forbidden',
    },
    {
      // the wallet that posted owns the job on chain: only it can extend or cancel it
      expression: `!${POSTED} || ${unchanged('spec.walletSecretRef')}`,
      messageExpression: "'spec.walletSecretRef: cannot change once the job is posted (the posting wallet owns ' + variables.postedJob + ')'",
      reason: 'Forbidden',
    },
    {
      expression: `!${POSTED} || ${unchanged('spec.jobAddress')}`,
      messageExpression: "'spec.jobAddress: cannot change once the job is posted (' + variables.postedJob + '); create a new NosanaJob to adopt another job'",
      reason: 'Forbidden',
    },
  ];

  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: NOSANA_JOB_POLICY_NAME },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{
            apiGroups: [GROUP],
            apiVersions: [VERSION],
            operations: ['CREATE', 'UPDATE'],
            resources: ['nosanajobs', 'nosanajobs/status'],
          }],
        },
        // variables keep the union-typed fields dynamically typed (the policy's type check
        // against the CRD schema would otherwise warn about fields declared without a type)
        variables: [{
          name: 'ops',
          expression: 'has(object.spec.definition) && has(object.spec.definition.ops) ? object.spec.definition.ops : []',
        }, {
          name: 'global',
          expression: 'has(object.spec.definition) && has(object.spec.definition.global) ? object.spec.definition.global : {}',
        }, {
          name: 'annotations',
          expression: 'has(object.metadata.annotations) ? object.metadata.annotations : {}',
        }, {
          name: 'oldAnnotations',
          expression: "request.operation == 'UPDATE' && has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}",
        }, {
          // the operator's annotations added, changed or removed by this request
          name: 'operatorAnnotationsChanged',
          expression: `variables.annotations.filter(k, ${isOperatorKey('k')} && (!(k in variables.oldAnnotations) || variables.oldAnnotations[k] != variables.annotations[k])) + variables.oldAnnotations.filter(k, ${isOperatorKey('k')} && !(k in variables.annotations))`,
        }, {
          // posted from the moment a post is recorded, before it is known to have landed
          name: 'posted',
          expression: `request.operation == 'UPDATE' && ((has(oldObject.status) && (has(oldObject.status.jobAddress) || has(oldObject.status.pendingPost))) || '${JOB_ADDRESS_ANNOTATION}' in variables.oldAnnotations || '${PENDING_POST_ANNOTATION}' in variables.oldAnnotations)`,
        }, {
          // the posted job, as messages name it
          name: 'postedJob',
          expression: `has(oldObject.status) && has(oldObject.status.jobAddress) ? 'job ' + oldObject.status.jobAddress : '${JOB_ADDRESS_ANNOTATION}' in variables.oldAnnotations ? 'job ' + variables.oldAnnotations['${JOB_ADDRESS_ANNOTATION}'] : has(oldObject.status) && has(oldObject.status.pendingPost) ? 'post of job ' + oldObject.status.pendingPost.jobAddress + ' recorded' : 'a post recorded in ${PENDING_POST_ANNOTATION}'`,
        }],
        validations,
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: NOSANA_JOB_POLICY_NAME },
      spec: { policyName: NOSANA_JOB_POLICY_NAME, validationActions: ['Deny'] },
    },
  ];
}
