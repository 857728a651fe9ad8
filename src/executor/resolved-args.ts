// An op's args once its literals are resolved, checked again before anything is created from them.
// The definition was validated with its literals still in place; resolution then splices in what
// other ops printed (a spread of a results line can become any list of resources, ports or env),
// so the args the Pod is built from are a stranger's input for a second time. They pass the same
// lenient validation as a definition, and the op fails before launch with the field named, rather
// than the builders meeting a shape they were never given.
//
// One leniency: text left in an `expose` list (a spread of a results line that was not a JSON
// array, as in Nosana's own literals example) publishes nothing instead of failing the op, since
// ports are only ever read from numbers and {port} objects.
import { formatProblem, validateJobDefinition } from '../api/job-definition/index.ts';
import type { ContainerRunArgs } from '../api/job-definition/index.ts';
import { isPlainObject } from '../api/job-definition/json-values.ts';

/** The args as validated (unknown keys dropped), or what is wrong, named from `args`. */
export function checkResolvedArgs(opId: string, resolved: unknown): { args: ContainerRunArgs } | { error: string } {
  const result = validateJobDefinition(
    { version: '0.1', type: 'container', ops: [{ type: 'container/run', id: opId, args: withoutTextPorts(resolved) }] },
    { strictness: 'lenient' },
  );
  const op = result.definition?.ops[0];
  if (result.ok && op !== undefined && op.type === 'container/run') return { args: op.args };
  const problems = result.problems.map((problem) => formatProblem({ ...problem, path: problem.path.replace(/^ops\[0\]\./, '') }));
  return { error: `after its literals were resolved, ${problems.join('; ') || 'its args are not valid'}` };
}

function withoutTextPorts(args: unknown): unknown {
  if (!isPlainObject(args) || !Array.isArray(args['expose'])) return args;
  return { ...args, expose: args['expose'].filter((entry) => typeof entry !== 'string') };
}
