// The Nosana job definition (format "0.1") as zod schemas, and the types inferred from them.
//
// Objects are strict: an unknown key is an issue everywhere except inside `meta` and inside maps
// (env, headers, variables, results). Whether that issue is an error or a warning is decided after
// parsing (validate.ts).
//
// The schemas come in two builds from one description. The strict build is the format as posters
// must write it. The lenient build (the node side) also takes what Nosana's own nodes accept and
// run although the format says otherwise (tolerances.ts): each such value leaves the parse
// normalised to the strict shape, or marked to be dropped, with a note that becomes a warning.
// Both builds have the same output types, which the executor relies on.
//
// Where several shapes are allowed, every schema carries an `expecting(...)` phrase, so that a
// value matching none of them is reported as "expected <the shapes>, got <value>".
import { z } from 'zod';
import { describeValue, expecting } from './messages.ts';
import { LITERAL_DESCRIPTION, LITERAL_PATTERN, REMOVE_IF_EMPTY, SPREAD_KEY, isLiteral } from './templating.ts';
import { dropped, kept } from './tolerances.ts';

/**
 * `strict` (posting): the format as written down, unknown keys are errors. `lenient` (the node
 * side, which must run what Nosana's nodes run, including definitions from newer posters):
 * unknown keys are warnings, and the shapes listed in tolerances.ts are taken, each with a warning.
 */
export type Strictness = 'strict' | 'lenient';

const PORT_DESCRIPTION = 'an integer 1–65535';
const EXPOSE_ITEM_DESCRIPTION = `a port number, an exposed-port object {"port": …}, a literal "%%…%%" string or a {"${SPREAD_KEY}": "%%…%%"} marker`;
const EXPOSE_DESCRIPTION = 'a port number, an exposed-port object {"port": …}, a literal "%%…%%" string, or an array of these';
const HTTP_STATUS_DESCRIPTION = 'an integer HTTP status 100–599';

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

function spreadEntryMessage(spread: unknown): string {
  return `expected ${LITERAL_DESCRIPTION} (a "${SPREAD_KEY}" entry merges the JSON object it resolves to), got ${JSON.stringify(spread)}`;
}

/** Environment variables. `"__spread__": "%%…%%"` merges a JSON object resolved at run time. */
function envSchema(strictness: Strictness) {
  const env = stringMap('an object of string values', 'a string (quote numbers and booleans)');
  if (strictness === 'lenient') {
    // The node parses whatever the entry holds as a JSON object when the op starts.
    return env.transform((values): Record<string, string> => {
      const spread = values[SPREAD_KEY];
      if (spread === undefined || isLiteral(spread)) return values;
      const note = `${spreadEntryMessage(spread)}; kept, as Nosana's node parses it as a JSON object when the op starts and fails the op if it is not one`;
      return { ...values, [SPREAD_KEY]: kept(spread, note) };
    });
  }
  return env.superRefine((values, context) => {
    const spread = values[SPREAD_KEY];
    if (Object.hasOwn(values, SPREAD_KEY) && !isLiteral(spread)) {
      context.addIssue({ code: 'custom', path: [SPREAD_KEY], input: spread, message: spreadEntryMessage(spread) });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Schemas the same in both builds

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

// ---------------------------------------------------------------------------------------------
// Shapes only the lenient build takes (each ends as a kept or dropped value, see tolerances.ts)

/** "8000-8010", first port below the last: a range Nosana's node hands to its tunnel as is. */
const PORT_RANGE = /^(\d+)-(\d+)$/;

function isPortRange(value: string): boolean {
  const match = PORT_RANGE.exec(value);
  return match !== null && Number(match[1]) < Number(match[2]);
}

const portRangeSchema = z.string().refine(isPortRange);

function droppedPortRange(range: unknown): never {
  return dropped(`the port range ${describeValue(range)} is not exposed: this node exposes single ports only; dropped`);
}

function isHttpStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599;
}

/** "8", " 16000 ", "12.5": a number written as text. */
const DECIMAL_TEXT = /^\s*-?\d+(?:\.\d+)?\s*$/;

/**
 * A number in meta. Nosana's node never reads meta and its validator takes any value there; this
 * project reads a few fields as scheduling hints, so a number written as text is read as that
 * number and anything else is left out.
 */
function metaNumber(description: string) {
  return z.unknown().transform((value): number => {
    if (typeof value === 'number') return value;
    const complaint = `expected ${description}, got ${describeValue(value)}`;
    if (typeof value === 'string' && DECIMAL_TEXT.test(value)) return kept(Number(value), `${complaint}; read as ${Number(value)}`);
    return dropped(`${complaint}; ignored`);
  });
}

/** A list of strings in meta: one string is read as a list of one, anything else is left out. */
function metaStringList(description: string) {
  return z.unknown().transform((value): string[] => {
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
    const complaint = `expected ${description}, got ${describeValue(value)}`;
    if (typeof value === 'string') return kept([value], `${complaint}; read as [${JSON.stringify(value)}]`);
    return dropped(`${complaint}; ignored`);
  });
}

// ---------------------------------------------------------------------------------------------
// The schemas that differ between the builds, and everything that contains them

function buildSchemas(strictness: Strictness) {
  const lenient = strictness === 'lenient';
  const env = envSchema(strictness);

  // ----- expose and health checks

  const portSchema = z.int(expecting(PORT_DESCRIPTION)).min(1).max(65535);

  const healthCheckCommon = {
    continuous: z.boolean(
      expecting('a boolean (true or false)', 'required: a health check needs "continuous": true (keep checking after startup) or false'),
    ),
    // Honoured by the newest node: restart the op's container when a continuous check fails.
    restart_on_failure: flag().optional(),
    max_restarts: nonNegativeInteger().optional(),
  };

  const expectedStatus = lenient
    ? z
        .number(expecting(HTTP_STATUS_DESCRIPTION))
        .transform((status) =>
          isHttpStatus(status)
            ? status
            : kept(
                status,
                `expected ${HTTP_STATUS_DESCRIPTION}, got number ${status}; kept, but no answer can match it, so this check never passes`,
              ),
        )
    : z.int(expecting(HTTP_STATUS_DESCRIPTION)).min(100).max(599);

  // The node sends a body that is not a string as its JSON text, and no body for a false one.
  const body = lenient
    ? z.unknown().transform((value): string => {
        if (typeof value === 'string') return value;
        const complaint = `expected a string, got ${describeValue(value)}`;
        if (value === null || value === false || value === 0)
          return dropped(`${complaint}; ignored, as Nosana's node sends no body for it`);
        return kept(JSON.stringify(value), `${complaint}; sent as its JSON text, as Nosana's node does`);
      })
    : text();

  const httpHealthCheckSchema = z.strictObject({
    type: z.literal('http'),
    path: text('a string (the HTTP path, e.g. "/health")'),
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
    expected_status: expectedStatus,
    headers: stringMap('an object of header names to string values').optional(),
    body: body.optional(),
    ...healthCheckCommon,
  });

  const websocketHealthCheckSchema = z.strictObject({
    type: z.literal('websocket'),
    expected_response: text(),
    ...healthCheckCommon,
  });

  const healthCheckSchema = z.discriminatedUnion(
    'type',
    [httpHealthCheckSchema, websocketHealthCheckSchema],
    expecting('a health check object'),
  );

  const exposedPortFields = {
    type: z.enum(['web', 'api', 'webapi', 'websocket', 'none']).optional(),
    health_checks: z.array(healthCheckSchema, expecting('an array of health checks')).optional(),
  };

  const exposedPortSchema = z.strictObject({ port: portSchema, ...exposedPortFields }, expecting('an exposed-port object'));

  const exposeItemSchema = z.union(
    [
      portSchema,
      exposedPortSchema,
      literalString(EXPOSE_ITEM_DESCRIPTION),
      spreadMarkerSchema,
      ...(lenient
        ? [
            portRangeSchema.transform(droppedPortRange),
            z.strictObject({ port: portRangeSchema, ...exposedPortFields }).transform(({ port }) => droppedPortRange(port)),
          ]
        : []),
    ],
    expecting(EXPOSE_ITEM_DESCRIPTION),
  );

  const exposeSchema = z.union(
    [
      portSchema,
      exposedPortSchema,
      literalString(EXPOSE_DESCRIPTION),
      z.array(exposeItemSchema),
      ...(lenient
        ? [
            portRangeSchema.transform(droppedPortRange),
            // In an array the marker splices a list; standing alone it would have to merge in one exposed port.
            spreadMarkerSchema.transform((): never =>
              dropped(
                `a {"${SPREAD_KEY}": …} marker as the whole of expose: this node reads the marker only inside an expose array; dropped`,
              ),
            ),
          ]
        : []),
    ],
    expecting(EXPOSE_DESCRIPTION),
  );

  // ----- resources

  const s3CredentialsSchema = z.strictObject(
    { REGION: text(), ACCESS_KEY_ID: text(), SECRET_ACCESS_KEY: text() },
    expecting('an object with REGION, ACCESS_KEY_ID and SECRET_ACCESS_KEY'),
  );

  const bucketList = z.array(
    z.strictObject({ url: text(), files: stringList().optional() }),
    expecting('a non-empty array of {url, files?} objects'),
  );

  /**
   * The three S3 shapes (url/files, one `bucket`, several `buckets`) as one object with a rule on
   * which keys combine: a wrong key then gets a precise message instead of "matches none of three".
   */
  const s3Object = z
    .strictObject({
      type: z.literal('S3'),
      target: text('a string (the mount path)'),
      url: text().optional(),
      files: stringList().optional(),
      bucket: text().optional(),
      buckets: (lenient ? bucketList : bucketList.min(1)).optional(),
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

  const s3ResourceSchema = lenient
    ? s3Object.transform((resource) =>
        resource.buckets?.length === 0
          ? dropped<typeof resource>('"buckets" is an empty array: this resource downloads nothing and is not mounted; dropped')
          : resource,
      )
    : s3Object;

  const huggingFaceResourceSchema = z.strictObject({
    type: z.literal('HF'),
    target: text('a string (the mount path)'),
    repo: text('a string (the Hugging Face repository, e.g. "org/model")'),
    revision: text().optional(),
    files: stringList().optional(),
    accessToken: text().optional(),
  });

  const ollamaResourceSchema = z.strictObject({
    type: z.literal('Ollama'),
    model: text('a string (the Ollama model, e.g. "llama3:8b")'),
    target: text().optional(),
  });

  const resourceSchema = z.discriminatedUnion(
    'type',
    [s3ResourceSchema, huggingFaceResourceSchema, ollamaResourceSchema],
    expecting('a resource object'),
  );

  const resourceItemSchema = z.union(
    [resourceSchema, spreadMarkerSchema, z.literal(REMOVE_IF_EMPTY)],
    expecting(`a resource object (type S3, HF or Ollama), a {"${SPREAD_KEY}": "%%…%%"} marker or "${REMOVE_IF_EMPTY}"`),
  );

  // ----- container/run and container/create-volume

  const containerRunArgsSchema = z.strictObject(
    {
      image: z
        .string(expecting('a string (the container image)', 'required: container/run needs args.image (global.image is not used by nodes)'))
        .min(1, { error: 'expected a container image, got an empty string' }),
      cmd: commandSchema.optional(),
      entrypoint: commandSchema.optional(),
      env: env.optional(),
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

  const volumeName = text('a string (the volume name)');
  const createVolumeArgsSchema = z.strictObject(
    {
      name: lenient
        ? volumeName.transform((name) =>
            name === ''
              ? kept(name, "expected a volume name, got an empty string; kept, as Nosana's node creates the volume all the same")
              : name,
          )
        : volumeName.min(1, { error: 'expected a volume name, got an empty string' }),
    },
    expecting('an object of container/create-volume arguments'),
  );

  // ----- Operation

  const opId = text();
  const operationCommon = {
    // Optional because real definitions omit it (see job-examples); rules.ts warns about it.
    id: (lenient
      ? opId.transform((id) =>
          id === ''
            ? kept(id, 'expected a non-empty op id, got an empty string; kept, but no literal or depends_on entry can refer to this op')
            : id,
        )
      : opId.min(1, { error: 'expected a non-empty op id, got an empty string' })
    ).optional(),
    results: z.record(z.string(), resultExtractorSchema, expecting('an object mapping result names to regexes')).optional(),
    execution: executionSchema.optional(),
  };

  const containerRunOperationSchema = z.strictObject({
    type: z.literal('container/run'),
    ...operationCommon,
    args: containerRunArgsSchema,
  });

  const createVolumeOperationSchema = z.strictObject({
    type: z.literal('container/create-volume'),
    ...operationCommon,
    args: createVolumeArgsSchema,
  });

  // Discriminated on `type`, so args are checked against the op's own type only.
  const operationSchema = z.discriminatedUnion(
    'type',
    [containerRunOperationSchema, createVolumeOperationSchema],
    expecting('an operation object'),
  );

  // ----- Top level

  const systemRequirementsFields = lenient
    ? {
        required_vram: metaNumber('a number (GB)').optional(),
        vram_total_mb: metaNumber('a number (MB)').optional(),
        required_cuda: metaStringList('an array of CUDA versions as strings, e.g. ["12.8"]').optional(),
      }
    : {
        required_vram: z.number(expecting('a number (GB)')).optional(),
        vram_total_mb: z.number(expecting('a number (MB)')).optional(),
        required_cuda: stringList('an array of CUDA versions as strings, e.g. ["12.8"]').optional(),
      };
  const systemRequirementsObject = z.looseObject(systemRequirementsFields, expecting('an object'));

  /** Free-form: only the commonly used keys are typed, anything else is allowed and ignored. */
  const metaSchema = z.looseObject(
    {
      trigger: text().optional(),
      system_resources: z
        .record(z.string(), z.union([z.string(), z.number()], expecting('a string or a number')), expecting('an object'))
        .optional(),
      system_requirements: (lenient
        ? z.union([
            systemRequirementsObject,
            z.unknown().transform((value) => dropped<never>(`expected an object, got ${describeValue(value)}; ignored`)),
          ])
        : systemRequirementsObject
      ).optional(),
    },
    expecting('an object'),
  );

  const globalSchema = z.strictObject(
    {
      image: text().optional(),
      gpu: flag().optional(),
      entrypoint: commandSchema.optional(),
      env: env.optional(),
      work_dir: text().optional(),
      variables: stringMap('an object of string values').optional(),
    },
    expecting('an object'),
  );

  const jobDefinitionSchema = z.strictObject(
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

  return {
    httpHealthCheckSchema,
    websocketHealthCheckSchema,
    healthCheckSchema,
    exposedPortSchema,
    s3ResourceSchema,
    huggingFaceResourceSchema,
    ollamaResourceSchema,
    resourceSchema,
    containerRunArgsSchema,
    createVolumeArgsSchema,
    containerRunOperationSchema,
    createVolumeOperationSchema,
    operationSchema,
    metaSchema,
    globalSchema,
    jobDefinitionSchema,
  };
}

// ---------------------------------------------------------------------------------------------
// The two builds

export const {
  httpHealthCheckSchema,
  websocketHealthCheckSchema,
  healthCheckSchema,
  exposedPortSchema,
  s3ResourceSchema,
  huggingFaceResourceSchema,
  ollamaResourceSchema,
  resourceSchema,
  containerRunArgsSchema,
  createVolumeArgsSchema,
  containerRunOperationSchema,
  createVolumeOperationSchema,
  operationSchema,
  metaSchema,
  globalSchema,
  jobDefinitionSchema,
} = buildSchemas('strict');

/** The node side's schema: what Nosana's nodes run, its output shaped as the strict one's (see tolerances.ts). */
export const lenientJobDefinitionSchema = buildSchemas('lenient').jobDefinitionSchema;

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
