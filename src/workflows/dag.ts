/**
 * The DAG definition API that users write in `dags/*.ts`:
 *
 *   export default dag({ id: "demo", schedule: "@hourly", startDate: "2021-09-21T00:00:00Z",
 *     tasks: [task({ id: "export", run: async (ctx) => … })] });
 *
 * dag() checks everything it can at definition time and throws one ValidationError listing every
 * problem, so a broken DAG file shows up as an import error with all its faults, not as a run that
 * fails hours later. The returned Dag is plain frozen data plus the tasks' functions.
 */
import { validationError } from "../errors.js";
import { checkBoolean, checkId, checkInteger, checkKnownKeys, describeValue } from "./field-checks.js";
import { type DagParams, defineParams, type ParamsInput } from "./params.js";
import { assertTimeZone, daysAgo, parseDateInZone, parseSchedule, type Schedule } from "./schedule.js";
import {
  checkRetryArgs,
  checkTaskDefinition,
  type RetryArgs,
  resolveTask,
  retryArgKeys,
  type Task,
  type TaskDefinition,
} from "./task.js";

/**
 * Marks objects made by dag(). Symbol.for, not Symbol(): DAG files may load their own copy of this
 * module (the loader imports them in a separate namespace), and the brand must still match.
 */
export const dagBrand: unique symbol = Symbol.for("hourglass.dag");

/** Relative start dates drift (the first interval moves every day): accepted, with a warning. */
export interface RelativeDate {
  daysAgo: number;
}

export type DateInput = string | Date;

export interface DagDefinition {
  id: string;
  /** Cron, a preset (@hourly, @daily, @weekly, @monthly, @quarterly, @yearly), @once, or null: manual only (default). */
  schedule?: string | null;
  /** IANA zone the cron runs in, and the zone of date strings without an offset. Default UTC. */
  timezone?: string;
  /** Required unless the schedule is null. */
  startDate?: DateInput | RelativeDate;
  endDate?: DateInput;
  /** Default true: missed intervals since startDate are run. */
  catchup?: boolean;
  maxActiveRuns?: number;
  maxActiveTasks?: number;
  dagrunTimeoutMs?: number;
  dependsOnPast?: boolean;
  tags?: readonly string[];
  description?: string;
  defaultArgs?: RetryArgs;
  params?: ParamsInput;
  /**
   * Export freshness (docs/freshness.md). `reexportLateData`: once records have landed in an
   * exported interval after its export and then stayed quiet for `settle`, the scheduler re-runs
   * the interval (a run of type reexport), for intervals that ended at most `within` ago.
   * Durations as "15m", "24h", "90s", "2d".
   */
  freshness?: { reexportLateData?: { settle: string; within: string } };
  tasks: readonly TaskDefinition[];
}

/** A DAG's freshness options, resolved to milliseconds. */
export interface DagFreshness {
  readonly reexportLateData: { readonly settleMs: number; readonly withinMs: number } | null;
}

export type StartDate = Date | Readonly<RelativeDate>;

export interface Dag {
  readonly [dagBrand]: true;
  readonly id: string;
  readonly description: string | null;
  readonly schedule: Schedule;
  readonly timezone: string;
  /** null only for manual-only DAGs defined without one. A relative date is resolved by resolveStartDate. */
  readonly startDate: StartDate | null;
  readonly endDate: Date | null;
  readonly catchup: boolean;
  readonly maxActiveRuns: number;
  readonly maxActiveTasks: number;
  readonly dagrunTimeoutMs: number | null;
  readonly tags: readonly string[];
  readonly params: DagParams;
  readonly freshness: DagFreshness;
  /** In dependency order: every task comes after its upstream tasks. */
  readonly tasks: readonly Task[];
  /** Things that work but deserve attention (a relative start date). The loader reports them. */
  readonly warnings: readonly string[];
}

export const defaultMaxActiveRuns = 16;
export const defaultMaxActiveTasks = 16;

const dagKeys = [
  "id",
  "schedule",
  "timezone",
  "startDate",
  "endDate",
  "catchup",
  "maxActiveRuns",
  "maxActiveTasks",
  "dagrunTimeoutMs",
  "dependsOnPast",
  "tags",
  "description",
  "defaultArgs",
  "params",
  "freshness",
  "tasks",
] as const;

export const isDag = (value: unknown): value is Dag =>
  typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[dagBrand] === true;

export function dag(definition: DagDefinition): Dag {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    throw validationError(
      `dag() needs an object such as { id, schedule, startDate, tasks }, got ${describeValue(definition)}`,
    );
  }
  const def = definition as unknown as Record<string, unknown>;
  const dagId = typeof def.id === "string" ? def.id : "?";
  problems.push(...checkKnownKeys("dag", def, dagKeys));
  push(problems, checkId("dag id", def.id));

  const timezone = attempt(problems, () => assertTimeZone(def.timezone ?? "UTC")) ?? "UTC";
  const schedule = attempt(problems, () =>
    parseSchedule(def.schedule as string | null | undefined, timezone),
  );
  const startDate = readStartDate(def.startDate, timezone, schedule, problems, warnings);
  const endDate =
    def.endDate === undefined ? null : attempt(problems, () => readDate("endDate", def.endDate, timezone));
  if (startDate instanceof Date && endDate instanceof Date && endDate < startDate) {
    problems.push(`endDate ${endDate.toISOString()} is before startDate ${startDate.toISOString()}`);
  }

  push(problems, checkBoolean("catchup", def.catchup));
  push(problems, checkBoolean("dependsOnPast", def.dependsOnPast));
  push(problems, checkInteger("maxActiveRuns", def.maxActiveRuns, 1));
  push(problems, checkInteger("maxActiveTasks", def.maxActiveTasks, 1));
  push(problems, checkInteger("dagrunTimeoutMs", def.dagrunTimeoutMs, 1));
  if (def.description !== undefined && typeof def.description !== "string")
    problems.push("description must be a string");
  if (
    def.tags !== undefined &&
    (!Array.isArray(def.tags) || def.tags.some((t) => typeof t !== "string" || t === ""))
  ) {
    problems.push("tags must be an array of non-empty strings");
  }

  const defaultArgs = readDefaultArgs(def.defaultArgs, problems);
  const { params, problems: paramProblems } = defineParams(def.params);
  problems.push(...paramProblems);
  const tasks = readTasks(def.tasks, problems);
  const freshness = readFreshness(def.freshness, problems);

  if (problems.length > 0 || schedule === undefined) {
    throw validationError(`invalid DAG "${dagId}": ${problems.join("; ")}`, { dagId, problems });
  }
  const dagDefaults: RetryArgs = {
    ...defaultArgs,
    dependsOnPast: defaultArgs.dependsOnPast ?? (def.dependsOnPast as boolean | undefined),
  };
  return Object.freeze({
    [dagBrand]: true as const,
    id: def.id as string,
    description: (def.description as string | undefined) ?? null,
    schedule,
    timezone,
    startDate: startDate ?? null,
    endDate: endDate ?? null,
    catchup: (def.catchup as boolean | undefined) ?? true,
    maxActiveRuns: (def.maxActiveRuns as number | undefined) ?? defaultMaxActiveRuns,
    maxActiveTasks: (def.maxActiveTasks as number | undefined) ?? defaultMaxActiveTasks,
    dagrunTimeoutMs: (def.dagrunTimeoutMs as number | undefined) ?? null,
    tags: Object.freeze([...((def.tags as string[] | undefined) ?? [])]),
    params,
    freshness,
    tasks: Object.freeze(orderTasks(tasks, dagDefaults)),
    warnings: Object.freeze(warnings),
  });
}

const durationUnitsMs: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m", "24h", "90s", "2d" in milliseconds, or undefined. */
export function parseDurationMs(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * durationUnitsMs[match[2]!]!;
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

function readFreshness(value: unknown, problems: string[]): DagFreshness {
  const none: DagFreshness = Object.freeze({ reexportLateData: null });
  if (value === undefined) return none;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(
      'freshness must be an object such as { reexportLateData: { settle: "15m", within: "24h" } }',
    );
    return none;
  }
  const fields = value as Record<string, unknown>;
  problems.push(...checkKnownKeys("freshness", fields, ["reexportLateData"]));
  const late = fields["reexportLateData"];
  if (late === undefined) return none;
  if (typeof late !== "object" || late === null || Array.isArray(late)) {
    problems.push('freshness.reexportLateData must be an object such as { settle: "15m", within: "24h" }');
    return none;
  }
  const given = late as Record<string, unknown>;
  problems.push(...checkKnownKeys("freshness.reexportLateData", given, ["settle", "within"]));
  const settleMs = parseDurationMs(given["settle"]);
  const withinMs = parseDurationMs(given["within"]);
  if (settleMs === undefined)
    problems.push(
      `freshness.reexportLateData.settle must be a duration such as "15m", got ${describeValue(given["settle"])}`,
    );
  if (withinMs === undefined)
    problems.push(
      `freshness.reexportLateData.within must be a duration such as "24h", got ${describeValue(given["within"])}`,
    );
  if (settleMs === undefined || withinMs === undefined) return none;
  if (settleMs >= withinMs)
    problems.push(
      `freshness.reexportLateData.settle (${String(given["settle"])}) must be shorter than within (${String(given["within"])})`,
    );
  return Object.freeze({ reexportLateData: Object.freeze({ settleMs, withinMs }) });
}

/** The absolute start date: a relative one ({ daysAgo: n }) is local midnight n days before `now`. */
export function resolveStartDate(dag: Dag, now: Date): Date | null {
  const start = dag.startDate;
  if (start === null || start instanceof Date) return start;
  return daysAgo(start.daysAgo, now, dag.timezone);
}

export function getTask(dag: Dag, taskId: string): Task | undefined {
  return dag.tasks.find((t) => t.id === taskId);
}

// ---------------------------------------------------------------------------------------------

function readStartDate(
  value: unknown,
  timezone: string,
  schedule: Schedule | undefined,
  problems: string[],
  warnings: string[],
): StartDate | undefined {
  if (value === undefined) {
    if (schedule !== undefined && schedule.kind !== "manual") {
      problems.push(`startDate is required for schedule "${schedule.expression}"`);
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    const keys = Object.keys(value);
    const days = (value as { daysAgo?: unknown }).daysAgo;
    if (
      keys.length !== 1 ||
      keys[0] !== "daysAgo" ||
      typeof days !== "number" ||
      !Number.isInteger(days) ||
      days < 0
    ) {
      problems.push("startDate must be an ISO date string, a Date, or { daysAgo: <integer >= 0> }");
      return undefined;
    }
    warnings.push(
      `startDate { daysAgo: ${days} } is relative: it moves every day, so which intervals catchup creates depends on when the DAG is read; prefer a fixed date`,
    );
    return Object.freeze({ daysAgo: days });
  }
  return attempt(problems, () => readDate("startDate", value, timezone));
}

function readDate(name: string, value: unknown, timezone: string): Date {
  if (!(typeof value === "string" || value instanceof Date)) {
    throw validationError(`${name} must be an ISO date string or a Date, got ${describeValue(value)}`);
  }
  if (value instanceof Date && Number.isNaN(value.getTime()))
    throw validationError(`${name} is an invalid Date`);
  try {
    return parseDateInZone(value, timezone);
  } catch (error) {
    throw validationError(`${name}: ${(error as Error).message}`);
  }
}

function readDefaultArgs(value: unknown, problems: string[]): RetryArgs {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push("defaultArgs must be an object");
    return {};
  }
  const args = value as Record<string, unknown>;
  problems.push(...checkKnownKeys("defaultArgs", args, retryArgKeys), ...checkRetryArgs("defaultArgs", args));
  return args as RetryArgs;
}

function readTasks(value: unknown, problems: string[]): TaskDefinition[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push("tasks must be a non-empty array of task({ … })");
    return [];
  }
  const tasks: TaskDefinition[] = [];
  const seen = new Set<string>();
  value.forEach((candidate, index) => {
    const id = (candidate as { id?: unknown } | null)?.id;
    const where = typeof id === "string" ? `task "${id}"` : `tasks[${index}]`;
    const taskProblems = checkTaskDefinition(candidate, where);
    problems.push(...taskProblems);
    if (typeof id === "string") {
      if (seen.has(id)) problems.push(`task id "${id}" is used more than once`);
      seen.add(id);
    }
    if (taskProblems.length === 0) tasks.push(candidate as TaskDefinition);
  });
  if (tasks.length !== value.length) return tasks;
  for (const t of tasks) {
    for (const upstream of t.upstream ?? []) {
      if (!seen.has(upstream)) problems.push(`task "${t.id}": unknown upstream task "${upstream}"`);
    }
  }
  const cycle = findCycle(tasks);
  if (cycle !== null) problems.push(`tasks form a cycle: ${cycle.join(" -> ")}`);
  return tasks;
}

/** A dependency cycle as a path that starts and ends at the same task, or null. */
function findCycle(tasks: readonly TaskDefinition[]): string[] | null {
  const upstreamOf = new Map(tasks.map((t) => [t.id, t.upstream ?? []]));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === "done" || !upstreamOf.has(id)) return null;
    if (state.get(id) === "visiting") {
      // The path walks upstream; reverse it so the cycle reads in the direction work flows.
      return [...path.slice(path.indexOf(id)), id].reverse();
    }
    state.set(id, "visiting");
    path.push(id);
    for (const upstream of upstreamOf.get(id) ?? []) {
      const found = visit(upstream);
      if (found !== null) return found;
    }
    path.pop();
    state.set(id, "done");
    return null;
  };
  for (const t of tasks) {
    const found = visit(t.id);
    if (found !== null) return found;
  }
  return null;
}

/** Resolved tasks in dependency order, keeping the definition order among independent tasks. */
function orderTasks(definitions: readonly TaskDefinition[], defaults: RetryArgs): Task[] {
  const downstream = new Map<string, string[]>(definitions.map((t) => [t.id, []]));
  for (const t of definitions) for (const u of new Set(t.upstream ?? [])) downstream.get(u)?.push(t.id);
  const ordered: Task[] = [];
  const placed = new Set<string>();
  while (ordered.length < definitions.length) {
    const next = definitions.find((t) => !placed.has(t.id) && (t.upstream ?? []).every((u) => placed.has(u)));
    if (next === undefined) break; // unreachable: cycles were rejected
    placed.add(next.id);
    ordered.push(resolveTask(next, defaults, downstream.get(next.id) ?? []));
  }
  return ordered;
}

function push(problems: string[], problem: string | null): void {
  if (problem !== null) problems.push(problem);
}

/** Runs a check that throws, turning its error into a problem. */
function attempt<T>(problems: string[], check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}
