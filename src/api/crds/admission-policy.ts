// The part of NosanaJob validation that CRD rules cannot express, as a
// ValidatingAdmissionPolicy (evaluated by the API server itself: no webhook to run, no
// certificates, nothing to fail open when the operator is down).
//
// Why not CRD CEL: fields whose Nosana type is a union (cmd, entrypoint, expose) must be
// declared without a type, and the CRD rule compiler cannot see typeless fields; and
// comparing two unbounded JSON documents (definition immutability) exceeds the CRD rule
// cost *estimate*, while an admission policy is bounded by its actual runtime cost.
// The rules about changes after posting live here too, because a policy also sees the
// job-address annotation (which survives a backup/restore that drops status).
import { GROUP, VERSION } from './common.ts';
import { JOB_ADDRESS_ANNOTATION } from '../annotations.ts';

export const NOSANA_JOB_POLICY_NAME = 'nosanajob-definition.nosana.io';

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

const posted = `oldObject != null && ((has(oldObject.status) && has(oldObject.status.jobAddress)) || (has(oldObject.metadata.annotations) && '${JOB_ADDRESS_ANNOTATION}' in oldObject.metadata.annotations))`;

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
      expression: `!(${posted}) || object.spec.market == oldObject.spec.market`,
      messageExpression: "'spec.market: cannot change once the job is posted; create a new NosanaJob instead'",
      reason: 'Forbidden',
    },
    {
      // an extension is paid on chain; a shorter timeout cannot be taken back
      expression: `!(${posted}) || !has(oldObject.spec.timeout) || (has(object.spec.timeout) && ${seconds('object.spec.timeout')} >= ${seconds('oldObject.spec.timeout')})`,
      messageExpression: "'spec.timeout: can only grow once the job is posted (an extension is paid on chain)'",
      reason: 'Forbidden',
    },
    {
      // What was paid for cannot change: a posted job keeps its definition.
      expression: `!(${posted}) || (has(object.spec.definition) == has(oldObject.spec.definition) && (!has(object.spec.definition) || object.spec.definition == oldObject.spec.definition) && has(object.spec.definitionFrom) == has(oldObject.spec.definitionFrom) && (!has(object.spec.definitionFrom) || object.spec.definitionFrom == oldObject.spec.definitionFrom))`,
      messageExpression: "'spec.definition: cannot change once the job is posted (job ' + (has(oldObject.status) && has(oldObject.status.jobAddress) ? oldObject.status.jobAddress : oldObject.metadata.annotations['" + JOB_ADDRESS_ANNOTATION + "']) + '); create a new NosanaJob instead'",
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
            resources: ['nosanajobs'],
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
