/**
 * What `import … from "hourglass"` gives a DAG file: the DAG API (`dag`, `task`, templates, time
 * helpers) and the operators' builders. The lead extends this surface as parts land.
 */

export {
  type CommandDescriptor,
  type CommandOptions,
  command,
  type EmptyResultPolicy,
  type ExportDescriptor,
  type ExportQueryOptions,
  exportQuery,
  type SqlCheckDescriptor,
  type SqlCheckExpectations,
  type SqlCheckOptions,
  sqlCheck,
} from "./operators/index.js";
export * from "./workflows/index.js";
