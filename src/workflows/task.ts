/**
 * Tasks: a unit of work inside a DAG. A task either runs a function (`run`) or hands an operator
 * descriptor (`operator`, e.g. { kind: "export", … }) to the operator registry written elsewhere;
 * `run` may also return a descriptor. Retry settings fall back to the DAG's defaultArgs, then to
 * Airflow's defaults (no retries, 5 minutes between tries).
 */
import { validationError } from "../errors.js";
import type { TaskContext } from "./context.js";
import { checkBoolean, checkId, checkInteger, checkKnownKeys, describeValue } from "./field-checks.js";

/** What operators are described by; operators add their own fields. */
export interface OperatorDescriptor {
  kind: string;
  [field: string]: unknown;
}

export type TaskRun = (ctx: TaskContext) => Promise<unknown> | unknown;

export interface RetryArgs {
  retries?: number;
  retryDelayMs?: number;
  retryExponentialBackoff?: boolean;
  maxRetryDelayMs?: number;
  executionTimeoutMs?: number;
  dependsOnPast?: boolean;
}

export interface TaskDefinition extends RetryArgs {
  id: string;
  upstream?: readonly string[];
  run?: TaskRun;
  operator?: OperatorDescriptor;
}

/** A task as the scheduler and workers see it: every setting resolved. */
export interface Task {
  readonly id: string;
  readonly upstream: readonly string[];
  readonly downstream: readonly string[];
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly retryExponentialBackoff: boolean;
  /** Caps the exponential backoff; null: no cap. */
  readonly maxRetryDelayMs: number | null;
  /** null: no timeout. */
  readonly executionTimeoutMs: number | null;
  readonly dependsOnPast: boolean;
  readonly run?: TaskRun;
  readonly operator?: OperatorDescriptor;
}

export const defaultRetryDelayMs = 5 * 60 * 1000;

export const retryArgKeys = [
  "retries",
  "retryDelayMs",
  "retryExponentialBackoff",
  "maxRetryDelayMs",
  "executionTimeoutMs",
  "dependsOnPast",
] as const;

const taskKeys = ["id", "upstream", "run", "operator", ...retryArgKeys] as const;

export const isOperatorDescriptor = (value: unknown): value is OperatorDescriptor =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  typeof (value as { kind?: unknown }).kind === "string" &&
  (value as { kind: string }).kind !== "";

/** Declares a task; throws a ValidationError listing its problems. */
export function task(definition: TaskDefinition): TaskDefinition {
  const problems = checkTaskDefinition(definition, "task");
  if (problems.length > 0) {
    const id = typeof definition?.id === "string" ? definition.id : "?";
    throw validationError(`invalid task "${id}": ${problems.join("; ")}`, { taskId: id, problems });
  }
  return Object.freeze({ ...definition, upstream: Object.freeze([...(definition.upstream ?? [])]) });
}

/** Problems with one task definition on its own (ids of other tasks are checked by the DAG). */
export function checkTaskDefinition(definition: unknown, where: string): string[] {
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    return [`${where} must be an object made with task({ id, run }), got ${describeValue(definition)}`];
  }
  const def = definition as Record<string, unknown>;
  const problems = [...checkKnownKeys(where, def, taskKeys)];
  const idProblem = checkId("task id", def.id);
  if (idProblem !== null) problems.push(idProblem);
  if (def.upstream !== undefined) {
    if (!Array.isArray(def.upstream) || def.upstream.some((u) => typeof u !== "string")) {
      problems.push(`${where}: upstream must be an array of task ids`);
    }
  }
  const hasRun = def.run !== undefined;
  const hasOperator = def.operator !== undefined;
  if (hasRun && typeof def.run !== "function") problems.push(`${where}: run must be a function`);
  if (hasOperator && !isOperatorDescriptor(def.operator)) {
    problems.push(`${where}: operator must be an object with a non-empty "kind"`);
  }
  if (hasRun === hasOperator) problems.push(`${where}: give exactly one of run or operator`);
  problems.push(...checkRetryArgs(where, def));
  return problems;
}

export function checkRetryArgs(where: string, args: Record<string, unknown>): string[] {
  return [
    checkInteger(`${where}: retries`, args.retries, 0),
    checkInteger(`${where}: retryDelayMs`, args.retryDelayMs, 0),
    checkInteger(`${where}: maxRetryDelayMs`, args.maxRetryDelayMs, 1),
    checkInteger(`${where}: executionTimeoutMs`, args.executionTimeoutMs, 1),
    checkBoolean(`${where}: retryExponentialBackoff`, args.retryExponentialBackoff),
    checkBoolean(`${where}: dependsOnPast`, args.dependsOnPast),
  ].filter((p): p is string => p !== null);
}

/** A valid definition with its settings resolved: the task's own, then the DAG's defaults, then Airflow's. */
export function resolveTask(
  definition: TaskDefinition,
  defaults: RetryArgs,
  downstream: readonly string[],
): Task {
  const pick = <K extends keyof RetryArgs>(key: K): RetryArgs[K] => definition[key] ?? defaults[key];
  const resolved: Task = {
    id: definition.id,
    upstream: Object.freeze([...new Set(definition.upstream ?? [])]),
    downstream: Object.freeze([...downstream]),
    retries: pick("retries") ?? 0,
    retryDelayMs: pick("retryDelayMs") ?? defaultRetryDelayMs,
    retryExponentialBackoff: pick("retryExponentialBackoff") ?? false,
    maxRetryDelayMs: pick("maxRetryDelayMs") ?? null,
    executionTimeoutMs: pick("executionTimeoutMs") ?? null,
    dependsOnPast: pick("dependsOnPast") ?? false,
    ...(definition.run === undefined ? {} : { run: definition.run }),
    ...(definition.operator === undefined ? {} : { operator: Object.freeze({ ...definition.operator }) }),
  };
  return Object.freeze(resolved);
}

/** Exponential backoff is capped at a day unless the task sets maxRetryDelayMs (Airflow does the same). */
export const maxExponentialRetryDelayMs = 24 * 60 * 60 * 1000;

/**
 * How long to wait after try `failedTryNumber` (1 = the first attempt) failed, before the next try:
 * retryDelayMs, or with exponential backoff retryDelayMs * 2^(failedTryNumber - 1), capped.
 */
export function retryDelayMsAfter(task: Task, failedTryNumber: number): number {
  if (!Number.isInteger(failedTryNumber) || failedTryNumber < 1) {
    throw validationError(`failedTryNumber must be an integer >= 1, got ${String(failedTryNumber)}`);
  }
  const cap =
    task.maxRetryDelayMs ??
    (task.retryExponentialBackoff ? maxExponentialRetryDelayMs : Number.POSITIVE_INFINITY);
  const delay = task.retryExponentialBackoff
    ? task.retryDelayMs * 2 ** Math.min(failedTryNumber - 1, 52)
    : task.retryDelayMs;
  return Math.min(delay, cap);
}
