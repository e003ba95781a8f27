/**
 * The contract between workers (which run tasks) and operators (what tasks do) is the workflows
 * part's (src/workflows/task-contract.ts: the task context carries it); operators code against it.
 * Re-exported here so the operators' files and their users name it in one place.
 */
export type {
  EmptyResultPolicy,
  ExportToLakeRequest,
  ExportToLakeResult,
  OperatorRunner,
  OperatorRunOptions,
  TaskServices,
} from "../workflows/index.js";
