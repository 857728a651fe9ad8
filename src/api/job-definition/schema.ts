// The Nosana job definition (format "0.1") as zod schemas, and the types inferred from them.
//
// Objects are strict: an unknown key is an issue everywhere except inside `meta` and inside maps
// (env, headers, variables, results). Whether that issue is an error or a warning is decided after
// parsing (validate.ts), so this one schema serves both the poster (strict) and the node (lenient).
//
// Where several shapes are allowed, every schema carries an `expecting(...)` phrase, so that a
// value matching none of them is reported as "expected <the shapes>, got <value>".
import { z } from 'zod';
import { expecting } from './messages.ts';
import { LITERAL_DESCRIPTION, LITERAL_PATTERN, REMOVE_IF_EMPTY, SPREAD_KEY, isLiteral } from './templating.ts';

const PORT_DESCRIPTION = 'an integer 1–65535';
const EXPOSE_ITEM_DESCRIPTION = `a port number, an exposed-port object {"port": …}, a literal "%%…%%" string or a {"${SPREAD_KEY}": "%%…%%"} marker`;
const EXPOSE_DESCRIPTION = 'a port number, an exposed-port object {"port": …}, a literal "%%…%%" string, or an array of these';

// ---------------------------------------------------------------------------------------------
// Building blocks

function text(description = 'a string') {
  return z.string(expecting(description));
}

function flag() {
  return z.boolean(expecting('a boolean (true or false)'));
}

function nonNegativeInteger() {
  return z.int(expecting('an integer ≥ 0')).min(0);
}

function stringList(description = 'an array of strings') {
  return z.array(text(), expecting(description));
}

function stringMap(description: string, valueDescription = 'a string') {
  return z.record(z.string(), text(valueDescription), expecting(description));
}

/** A string the node replaces as a whole, e.g. "%%ops.setup.results.expose%%". */
function literalString(description = LITERAL_DESCRIPTION) {
  return z.string(expecting(description)).regex(LITERAL_PATTERN);
}

/** `{"__spread__": "%%…%%"}`: the node splices the JSON array the literal resolves to. */
export const spreadMarkerSchema = z.strictObject(
  {
    [SPREAD_KEY]: literalString(),
    // The resolved value arrives as an array of string chunks to be joined before parsing.
    chunked: flag().optional(),
  },
  expecting(`a {"${SPREAD_KEY}": "%%…%%"} marker`),
);

/** cmd and entrypoint: a string, or an argv array (which may hold "__remove-if-empty__"). */
const commandSchema = z.union(
  [z.string(), z.array(text(), expecting('an array of strings'))],
  expecting('a string or an array of strings'),
);

/** Environment variables. `"__spread__": "%%…%%"` merges a JSON object resolved at run time. */
const envSchema = stringMap('an object of string values', 'a string (quote numbers and booleans)').superRefine((env, context) => {
  const spread = env[SPREAD_KEY];
  if (Object.hasOwn(env, SPREAD_KEY) && !isLiteral(spread)) {
    context.addIssue({
      code: 'custom',
      path: [SPREAD_KEY],
      input: spread,
      message: `expected ${LITERAL_DESCRIPTION} (a "${SPREAD_KEY}" entry merges the JSON object it resolves to), got ${JSON.stringify(spread)}`,
    });
  }
});

// ---------------------------------------------------------------------------------------------
// expose and health checks

const portSchema = z.int(expecting(PORT_DESCRIPTION)).min(1).max(65535);

const healthCheckCommon = {
  continuous: z.boolean(
    expecting('a boolean (true or false)', 'required: a health check needs "continuous": true (keep checking after startup) or false'),
  ),
  // Honoured by the newest node: restart the op's container when a continuous check fails.
  restart_on_failure: flag().optional(),
  max_restarts: nonNegativeInteger().optional(),
};

export const httpHealthCheckSchema = z.strictObject({
  type: z.literal('http'),
  path: text('a string (the HTTP path, e.g. "/health")'),
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
  expected_status: z.int(expecting('an integer HTTP status 100–599')).min(100).max(599),
  headers: stringMap('an object of header names to string values').optional(),
  body: text().optional(),
  ...healthCheckCommon,
});

export const websocketHealthCheckSchema = z.strictObject({
  type: z.literal('websocket'),
  expected_response: text(),
  ...healthCheckCommon,
});

export const healthCheckSchema = z.discriminatedUnion(
  'type',
  [httpHealthCheckSchema, websocketHealthCheckSchema],
  expecting('a health check object'),
);

export const exposedPortSchema = z.strictObject(
  {
    port: portSchema,
    type: z.enum(['web', 'api', 'webapi', 'websocket', 'none']).optional(),
    health_checks: z.array(healthCheckSchema, expecting('an array of health checks')).optional(),
  },
  expecting('an exposed-port object'),
);

const exposeItemSchema = z.union(
  [portSchema, exposedPortSchema, literalString(EXPOSE_ITEM_DESCRIPTION), spreadMarkerSchema],
  expecting(EXPOSE_ITEM_DESCRIPTION),
);

const exposeSchema = z.union(
  [portSchema, exposedPortSchema, literalString(EXPOSE_DESCRIPTION), z.array(exposeItemSchema)],
  expecting(EXPOSE_DESCRIPTION),
);

// ---------------------------------------------------------------------------------------------
// resources

const s3CredentialsSchema = z.strictObject(
  { REGION: text(), ACCESS_KEY_ID: text(), SECRET_ACCESS_KEY: text() },
  expecting('an object with REGION, ACCESS_KEY_ID and SECRET_ACCESS_KEY'),
);

/**
 * The three S3 shapes (url/files, one `bucket`, several `buckets`) as one object with a rule on
 * which keys combine: a wrong key then gets a precise message instead of "matches none of three".
 */
export const s3ResourceSchema = z
  .strictObject({
    type: z.literal('S3'),
    target: text('a string (the mount path)'),
    url: text().optional(),
    files: stringList().optional(),
    bucket: text().optional(),
    buckets: z
      .array(z.strictObject({ url: text(), files: stringList().optional() }), expecting('a non-empty array of {url, files?} objects'))
      .min(1)
      .optional(),
    allowWrite: flag().optional(),
    IAM: s3CredentialsSchema.optional(),
  })
  .superRefine((resource, context) => {
    if (resource.bucket !== undefined && resource.buckets !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['buckets'],
        input: resource.buckets,
        message: 'cannot be combined with "bucket": use either one bucket or a list of buckets',
      });
    }
    if (resource.files !== undefined && (resource.bucket !== undefined || resource.buckets !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['files'],
        input: resource.files,
        message: 'cannot be combined with "bucket" or "buckets" (list files per bucket in buckets[].files)',
      });
    }
  });

export const huggingFaceResourceSchema = z.strictObject({
  type: z.literal('HF'),
  target: text('a string (the mount path)'),
  repo: text('a string (the Hugging Face repository, e.g. "org/model")'),
  revision: text().optional(),
  files: stringList().optional(),
  accessToken: text().optional(),
});

export const ollamaResourceSchema = z.strictObject({
  type: z.literal('Ollama'),
  model: text('a string (the Ollama model, e.g. "llama3:8b")'),
  target: text().optional(),
});

export const resourceSchema = z.discriminatedUnion(
  'type',
  [s3ResourceSchema, huggingFaceResourceSchema, ollamaResourceSchema],
  expecting('a resource object'),
);

const resourceItemSchema = z.union(
  [resourceSchema, spreadMarkerSchema, z.literal(REMOVE_IF_EMPTY)],
  expecting(`a resource object (type S3, HF or Ollama), a {"${SPREAD_KEY}": "%%…%%"} marker or "${REMOVE_IF_EMPTY}"`),
);

// ---------------------------------------------------------------------------------------------
// container/run and container/create-volume

export const restartPolicySchema = z.union(
  [
    z.enum(['no', 'always', 'unless-stopped', 'on-failure']),
    z.strictObject({ policy: z.literal('on-failure'), restart_tries: nonNegativeInteger().optional() }),
  ],
  expecting('"no", "always", "unless-stopped", "on-failure" or {"policy": "on-failure", "restart_tries": <n>}'),
);

export const volumeMountSchema = z.strictObject(
  { name: text('a string (the volume name)'), dest: text('a string (the mount path)') },
  expecting('a {"name": …, "dest": …} object'),
);

export const containerRunArgsSchema = z.strictObject(
  {
    image: z
      .string(expecting('a string (the container image)', 'required: container/run needs args.image (global.image is not used by nodes)'))
      .min(1, { error: 'expected a container image, got an empty string' }),
    cmd: commandSchema.optional(),
    entrypoint: commandSchema.optional(),
    env: envSchema.optional(),
    work_dir: text().optional(),
    gpu: flag().optional(),
    expose: exposeSchema.optional(),
    private: flag().optional(),
    volumes: z.array(volumeMountSchema, expecting('an array of {"name": …, "dest": …} objects')).optional(),
    resources: z.array(resourceItemSchema, expecting('an array of resources')).optional(),
    authentication: z
      .strictObject(
        {
          docker: z
            .strictObject(
              { username: text().optional(), password: text().optional(), email: text().optional(), server: text().optional() },
              expecting('an object'),
            )
            .optional(),
        },
        expecting('an object'),
      )
      .optional(),
    restart_policy: restartPolicySchema.optional(),
    aliases: z.union([z.string(), stringList()], expecting('a string or an array of strings')).optional(),
    trusted_execution_env: flag().optional(),
    // Old SDK fields that no node reads; accepted so that old definitions still validate.
    required_vram: z.number(expecting('a number')).optional(),
    output: text().optional(),
  },
  expecting('an object of container/run arguments'),
);

export const createVolumeArgsSchema = z.strictObject(
  { name: text('a string (the volume name)').min(1, { error: 'expected a volume name, got an empty string' }) },
  expecting('an object of container/create-volume arguments'),
);

// ---------------------------------------------------------------------------------------------
// Operation

const LOG_TYPES = ['stdin', 'stdout', 'stderr', 'nodeerr'] as const;

const logTypesSchema = z
  .array(z.enum(LOG_TYPES), expecting('a non-empty array of "stdin", "stdout", "stderr" and/or "nodeerr"'))
  .min(1)
  .max(LOG_TYPES.length)
  .superRefine((logTypes, context) => {
    logTypes.forEach((logType, index) => {
      const first = logTypes.indexOf(logType);
      if (first !== index) {
        context.addIssue({
          code: 'custom',
          path: [index],
          input: logType,
          message: `duplicate log type "${logType}" (already at logType[${first}])`,
        });
      }
    });
  });

const resultExtractorSchema = z.union(
  [z.string(), z.strictObject({ regex: text('a string (a regular expression)'), logType: logTypesSchema })],
  expecting('a regex string or an object {"regex": …, "logType": [...]}'),
);

export const executionSchema = z.strictObject(
  {
    group: text().optional(),
    depends_on: stringList('an array of op ids').optional(),
    stop_if_dependent_stops: flag().optional(),
    timeout: z.int(expecting('a positive integer (seconds)')).min(1).optional(),
  },
  expecting('an object'),
);

const operationCommon = {
  // Optional because real definitions omit it (see job-examples); rules.ts warns about it.
  id: text().min(1, { error: 'expected a non-empty op id, got an empty string' }).optional(),
  results: z.record(z.string(), resultExtractorSchema, expecting('an object mapping result names to regexes')).optional(),
  execution: executionSchema.optional(),
};

export const containerRunOperationSchema = z.strictObject({
  type: z.literal('container/run'),
  ...operationCommon,
  args: containerRunArgsSchema,
});

export const createVolumeOperationSchema = z.strictObject({
  type: z.literal('container/create-volume'),
  ...operationCommon,
  args: createVolumeArgsSchema,
});

// Discriminated on `type`, so args are checked against the op's own type only.
export const operationSchema = z.discriminatedUnion(
  'type',
  [containerRunOperationSchema, createVolumeOperationSchema],
  expecting('an operation object'),
);

// ---------------------------------------------------------------------------------------------
// Top level

/** Free-form: only the commonly used keys are typed, anything else is allowed and ignored. */
export const metaSchema = z.looseObject(
  {
    trigger: text().optional(),
    system_resources: z
      .record(z.string(), z.union([z.string(), z.number()], expecting('a string or a number')), expecting('an object'))
      .optional(),
    system_requirements: z
      .looseObject(
        {
          required_vram: z.number(expecting('a number (GB)')).optional(),
          vram_total_mb: z.number(expecting('a number (MB)')).optional(),
          required_cuda: stringList('an array of CUDA versions as strings, e.g. ["12.8"]').optional(),
        },
        expecting('an object'),
      )
      .optional(),
  },
  expecting('an object'),
);

export const globalSchema = z.strictObject(
  {
    image: text().optional(),
    gpu: flag().optional(),
    entrypoint: commandSchema.optional(),
    env: envSchema.optional(),
    work_dir: text().optional(),
    variables: stringMap('an object of string values').optional(),
  },
  expecting('an object'),
);

const logisticsEndpointSchema = z.strictObject(
  {
    type: z.enum(['api', 'api-listen']),
    args: z.strictObject({ endpoint: text().optional() }, expecting('an object')),
  },
  expecting('an object {"type": "api" | "api-listen", "args": {…}}'),
);

export const logisticsSchema = z.strictObject(
  { send: logisticsEndpointSchema.optional(), receive: logisticsEndpointSchema.optional() },
  expecting('an object'),
);

export const sshSchema = z.strictObject({ public_keys: stringList('an array of SSH public keys').optional() }, expecting('an object'));

export const jobDefinitionSchema = z.strictObject(
  {
    version: text('a version string such as "0.1"'),
    type: z.literal('container'),
    meta: metaSchema.optional(),
    global: globalSchema.optional(),
    logistics: logisticsSchema.optional(),
    deployment_id: text().optional(),
    ssh: sshSchema.optional(),
    ops: z.array(operationSchema, expecting('an array of operations')),
  },
  expecting('a job definition object'),
);

// ---------------------------------------------------------------------------------------------
// Types

export type JobDefinition = z.output<typeof jobDefinitionSchema>;
export type Meta = z.output<typeof metaSchema>;
export type Global = z.output<typeof globalSchema>;
export type Logistics = z.output<typeof logisticsSchema>;
export type Ssh = z.output<typeof sshSchema>;
export type Operation = z.output<typeof operationSchema>;
export type OperationType = Operation['type'];
export type ContainerRunOperation = z.output<typeof containerRunOperationSchema>;
export type CreateVolumeOperation = z.output<typeof createVolumeOperationSchema>;
export type ContainerRunArgs = z.output<typeof containerRunArgsSchema>;
export type CreateVolumeArgs = z.output<typeof createVolumeArgsSchema>;
export type Execution = z.output<typeof executionSchema>;
export type OperationResults = NonNullable<ContainerRunOperation['results']>;
export type ResultExtractor = OperationResults[string];
export type LogType = (typeof LOG_TYPES)[number];
export type Expose = NonNullable<ContainerRunArgs['expose']>;
export type ExposedPort = z.output<typeof exposedPortSchema>;
export type ServiceType = NonNullable<ExposedPort['type']>;
export type HealthCheck = z.output<typeof healthCheckSchema>;
export type HttpHealthCheck = z.output<typeof httpHealthCheckSchema>;
export type WebsocketHealthCheck = z.output<typeof websocketHealthCheckSchema>;
export type SpreadMarker = z.output<typeof spreadMarkerSchema>;
export type Resource = z.output<typeof resourceSchema>;
export type S3Resource = z.output<typeof s3ResourceSchema>;
export type HuggingFaceResource = z.output<typeof huggingFaceResourceSchema>;
export type OllamaResource = z.output<typeof ollamaResourceSchema>;
export type ResourceEntry = NonNullable<ContainerRunArgs['resources']>[number];
export type RestartPolicy = z.output<typeof restartPolicySchema>;
export type VolumeMount = z.output<typeof volumeMountSchema>;
