/**
 * Stacks: a YAML file declaring databases, tables, buckets, streams, connectors, policies, roles,
 * principals and DAG roles; planned against what exists, applied in dependency order, destroyed in
 * reverse, with what each stack owns recorded in `<state>/stacks/NAME.json`.
 */
export {
  type ApplyOutcome,
  applyPlan,
  assertApplicable,
  type ItemResult,
  type ResultStatus,
} from "./apply.js";
export { type LoadedStack, loadStackFile, loadStackText } from "./load.js";
export { type FieldChange, makePlan, type Plan, type PlanAction, type PlanItem, summarize } from "./plan.js";
export { renderOutcome, renderPlan } from "./render.js";
export {
  type DesiredResource,
  type Properties,
  type ResourceKind,
  resourceKinds,
  splitTableName,
} from "./resources.js";
export type { PolicyDocument, StackFile } from "./schema.js";
export {
  type AccessModel,
  listStackStates,
  ownersOf,
  readAccessModel,
  readStackState,
  type StackState,
  stackStatePath,
  writeStackState,
} from "./state.js";
export type { IssuedKey, KeyIssuer, PolicyDocumentValidator, ResourceDriver, StackTarget } from "./target.js";
