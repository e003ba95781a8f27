/**
 * The freshness part's public surface: the status of a DAG's exported intervals (fresh, stale by
 * data or by code, missing, failed), and what re-exports need (docs/freshness.md).
 */
export {
  type ExportsStatusRequest,
  type ExportsStatusView,
  FreshnessService,
  type FreshnessStore,
  type FreshnessWorkflows,
  type SettledInterval,
} from "./service.js";
export { type ExportStatus, type ExportStatusEntry, exportStatuses } from "./status.js";
