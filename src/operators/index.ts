/**
 * The operators part's public surface: the operator builders DAG files use (`exportQuery`,
 * `command`, `sqlCheck`), the registry workers run descriptors with (`runOperator`), the export
 * service the server hosts. (The task services that connect the two are the runtime's.)
 */
export { abortError } from "./abort.js";
export {
  type CommandDescriptor,
  type CommandOptions,
  type CommandResult,
  command,
  defaultKillGraceMs,
} from "./command-operator.js";
export type {
  EmptyResultPolicy,
  ExportToLakeRequest,
  ExportToLakeResult,
  OperatorRunner,
  OperatorRunOptions,
  TaskServices,
} from "./contract.js";
export { type ExportDescriptor, type ExportQueryOptions, exportQuery } from "./export-operator.js";
export {
  emptyResultPolicies,
  exportFormats,
  exportRequestSchema,
  manifestKeyOf,
  manifestSuffix,
  parseExportRequest,
} from "./export-request.js";
export {
  createExportService,
  type ExportingStore,
  type ExportService,
  type ExportServiceOptions,
} from "./export-service.js";
export { type ExportManifest, manifestVersion } from "./manifest.js";
export {
  type ManifestFound,
  type ManifestSource,
  manifestKeysOf,
  readExportManifest,
} from "./read-manifest.js";
export { operatorKinds, runOperator } from "./registry.js";
export { shellQuote } from "./shell-template.js";
export {
  type SqlCheckDescriptor,
  type SqlCheckExpectations,
  type SqlCheckOptions,
  type SqlCheckResult,
  sqlCheck,
} from "./sql-check-operator.js";
