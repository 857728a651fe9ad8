// The Nosana job definition: schema, types and validator.
export { validateJobDefinition } from './validate.ts';
export type { Strictness, ValidationOptions, ValidationResult } from './validate.ts';
export { formatPath, formatProblem } from './problems.ts';
export type { DefinitionProblem } from './problems.ts';
export { jobDefinitionSchema, operationSchema, containerRunArgsSchema, createVolumeArgsSchema } from './schema.ts';
export type {
  JobDefinition,
  Meta,
  Global,
  Logistics,
  Ssh,
  Operation,
  OperationType,
  ContainerRunOperation,
  CreateVolumeOperation,
  ContainerRunArgs,
  CreateVolumeArgs,
  Execution,
  OperationResults,
  ResultExtractor,
  LogType,
  Expose,
  ExposedPort,
  ServiceType,
  HealthCheck,
  HttpHealthCheck,
  WebsocketHealthCheck,
  SpreadMarker,
  Resource,
  S3Resource,
  HuggingFaceResource,
  OllamaResource,
  ResourceEntry,
  RestartPolicy,
  VolumeMount,
} from './schema.ts';
export { LITERAL_PATTERN, REMOVE_IF_EMPTY, SPREAD_KEY, isLiteral } from './templating.ts';
