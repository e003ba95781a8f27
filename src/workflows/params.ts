/**
 * DAG params: named, typed inputs a trigger's `conf` may set. Declared either as a plain object
 * of specs ({ table: { type: "string", default: "cpu" } }) or as a zod schema (anything with
 * `safeParse`). Keys of conf that are not params stay in `conf` and are not an error: the seed's
 * backfill DAG reads `conf.command` without declaring it.
 */
import { validationError } from "../errors.js";

export const paramTypes = ["string", "number", "integer", "boolean", "object", "array"] as const;
export type ParamType = (typeof paramTypes)[number];

export interface ParamSpec {
  type: ParamType;
  default?: unknown;
  description?: string;
  enum?: readonly unknown[];
  /** For number and integer params. */
  minimum?: number;
  maximum?: number;
}

/** The part of a zod schema we use, so that any zod version (or a look-alike) works. */
export interface ParamsSchema {
  safeParse(value: unknown):
    | { success: true; data: unknown }
    | {
        success: false;
        error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
      };
}

export type ParamsInput = ParamsSchema | Readonly<Record<string, ParamSpec>>;

export type DagParams =
  | { readonly kind: "none" }
  | { readonly kind: "specs"; readonly specs: Readonly<Record<string, ParamSpec>> }
  | { readonly kind: "schema"; readonly schema: ParamsSchema };

export interface ParamProblem {
  key: string;
  message: string;
}

const paramNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const specKeys = new Set(["type", "default", "description", "enum", "minimum", "maximum"]);

export const isParamsSchema = (value: unknown): value is ParamsSchema =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { safeParse?: unknown }).safeParse === "function";

/** Checks a params declaration; returns it normalized and the problems found (empty when valid). */
export function defineParams(input: unknown): { params: DagParams; problems: string[] } {
  if (input === undefined || input === null) return { params: { kind: "none" }, problems: [] };
  if (isParamsSchema(input)) return { params: { kind: "schema", schema: input }, problems: [] };
  if (typeof input !== "object" || Array.isArray(input)) {
    return {
      params: { kind: "none" },
      problems: ["params must be a zod schema or an object of param specs"],
    };
  }
  const problems: string[] = [];
  const specs: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(input)) {
    const where = `params.${name}`;
    if (!paramNamePattern.test(name)) problems.push(`${where}: a param name must match ${paramNamePattern}`);
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      problems.push(`${where}: must be an object such as { type: "string", default: "x" }`);
      continue;
    }
    for (const key of Object.keys(spec)) {
      if (!specKeys.has(key))
        problems.push(`${where}: unknown field "${key}" (allowed: ${[...specKeys].join(", ")})`);
    }
    const typed = spec as ParamSpec;
    const { type, enum: choices, minimum, maximum } = typed;
    if (!paramTypes.includes(type)) {
      problems.push(`${where}: type must be one of ${paramTypes.join(", ")}, got ${JSON.stringify(type)}`);
      continue;
    }
    if (choices !== undefined && (!Array.isArray(choices) || choices.length === 0)) {
      problems.push(`${where}: enum must be a non-empty array`);
    }
    for (const [bound, value] of [
      ["minimum", minimum],
      ["maximum", maximum],
    ] as const) {
      if (value === undefined) continue;
      if (type !== "number" && type !== "integer")
        problems.push(`${where}: ${bound} only applies to number params`);
      else if (typeof value !== "number" || !Number.isFinite(value))
        problems.push(`${where}: ${bound} must be a number`);
    }
    if (typeof minimum === "number" && typeof maximum === "number" && minimum > maximum) {
      problems.push(`${where}: minimum ${minimum} is greater than maximum ${maximum}`);
    }
    if (typed.default !== undefined) {
      const problem = checkValue(typed, typed.default);
      if (problem !== null) problems.push(`${where}: default ${problem}`);
    }
    specs[name] = Object.freeze({ ...typed });
  }
  return { params: { kind: "specs", specs: Object.freeze(specs) }, problems };
}

/**
 * The params a run sees: defaults, overridden by conf. Throws a ValidationError listing every
 * problem with its key (wrong type, not in enum, out of range, required and missing).
 */
export function resolveParams(params: DagParams, conf: unknown): Record<string, unknown> {
  if (conf !== undefined && conf !== null && (typeof conf !== "object" || Array.isArray(conf))) {
    throw validationError("conf must be a JSON object", {
      problems: [{ key: "", message: "not an object" }],
    });
  }
  const given = (conf ?? {}) as Record<string, unknown>;
  if (params.kind === "none") return {};
  if (params.kind === "schema") {
    const result = params.schema.safeParse(given);
    if (result.success) return { ...(result.data as Record<string, unknown>) };
    fail(
      result.error.issues.map((issue) => ({ key: issue.path.map(String).join("."), message: issue.message })),
    );
  }
  const resolved: Record<string, unknown> = {};
  const problems: ParamProblem[] = [];
  for (const [key, spec] of Object.entries(params.specs)) {
    const value = Object.hasOwn(given, key) ? given[key] : spec.default;
    if (value === undefined) {
      problems.push({ key, message: "is required (it has no default and conf does not set it)" });
      continue;
    }
    const problem = checkValue(spec, value);
    if (problem === null) resolved[key] = value;
    else problems.push({ key, message: problem });
  }
  if (problems.length > 0) fail(problems);
  return resolved;
}

/** A description of each param, for forms in the UI and `hourglass dags show`. Null for a zod schema. */
export function describeParams(params: DagParams): Array<ParamSpec & { name: string }> | null {
  if (params.kind === "schema") return null;
  if (params.kind === "none") return [];
  return Object.entries(params.specs).map(([name, spec]) => ({ name, ...spec }));
}

function fail(problems: ParamProblem[]): never {
  const text = problems.map((p) => (p.key === "" ? p.message : `${p.key}: ${p.message}`)).join("; ");
  throw validationError(`invalid params: ${text}`, { problems });
}

/** Why `value` does not fit `spec`, or null if it does. */
function checkValue(spec: ParamSpec, value: unknown): string | null {
  const typeProblem = checkType(spec.type, value);
  if (typeProblem !== null) return typeProblem;
  if (spec.enum !== undefined && !spec.enum.some((choice) => sameValue(choice, value))) {
    return `must be one of ${spec.enum.map((c) => JSON.stringify(c)).join(", ")}, got ${JSON.stringify(value)}`;
  }
  if (typeof value === "number") {
    if (spec.minimum !== undefined && value < spec.minimum) return `must be >= ${spec.minimum}, got ${value}`;
    if (spec.maximum !== undefined && value > spec.maximum) return `must be <= ${spec.maximum}, got ${value}`;
  }
  return null;
}

function checkType(type: ParamType, value: unknown): string | null {
  const ok =
    type === "string"
      ? typeof value === "string"
      : type === "number"
        ? typeof value === "number" && Number.isFinite(value)
        : type === "integer"
          ? Number.isInteger(value)
          : type === "boolean"
            ? typeof value === "boolean"
            : type === "array"
              ? Array.isArray(value)
              : typeof value === "object" && value !== null && !Array.isArray(value);
  return ok ? null : `expected ${type === "integer" ? "an integer" : `a ${type}`}, got ${describe(value)}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null) return Object.is(a, b);
  return JSON.stringify(a) === JSON.stringify(b);
}
