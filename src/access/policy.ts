/**
 * IAM policy documents: read from JSON text, checked, and turned into a normalised form that
 * evaluation compiles. Every problem is a Finding with its JSON path and line, so that
 * `hourglass policy validate` can point at it; `loadPolicy` (for simulation and enforcement)
 * refuses a document with any error and keeps its warnings.
 *
 * Elements: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 */
import { z } from "zod";
import { HourglassError } from "../errors.js";
import {
  canonicalAction,
  KNOWN_ACTIONS,
  KNOWN_SERVICES,
  RESOURCE_KINDS_OF_ACTION,
  RESOURCE_SHAPES,
  type ResourceKind,
} from "./actions.js";
import { type ArnScope, PARTITIONS, parseArn } from "./arn.js";
import { checkConditionValue, type ParsedOperator, parseOperator } from "./conditions.js";
import { formatJsonPath, type JsonPath, type JsonSource, parseJsonSource } from "./json-source.js";
import { patternsCanOverlap } from "./pattern-overlap.js";
import { hasWildcard, wildcardMatcher, wildcardMatches } from "./wildcard.js";

export const POLICY_VERSION = "2012-10-17";

export interface ConditionEntry {
  /** As written: `StringEqualsIfExists`, `ForAnyValue:StringLike`. */
  operatorText: string;
  operator: ParsedOperator;
  key: string;
  values: readonly string[];
}

export interface PolicyStatement {
  /** Position in the document's Statement list (0 for a lone statement object). */
  index: number;
  sid?: string;
  effect: "Allow" | "Deny";
  action?: readonly string[];
  notAction?: readonly string[];
  resource?: readonly string[];
  notResource?: readonly string[];
  conditions: readonly ConditionEntry[];
}

export interface PolicyDocument {
  /** Where it came from (a file name, a policy name): decisions name it. */
  name: string;
  version: string;
  id?: string;
  statements: readonly PolicyStatement[];
}

export interface Finding {
  severity: "error" | "warning";
  /** `Statement[0].Action[2]`, or `(document)`. */
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface PolicyCheck {
  /** Present when the document's shape could be read (it may still have error findings). */
  document?: PolicyDocument;
  findings: Finding[];
}

export interface CheckOptions {
  /** A file name or policy name, used in messages. */
  name?: string;
  /** Hourglass's account and region: ARNs naming others never match here (a warning). */
  scope?: ArnScope;
}

const STRING_OR_LIST = "must be a string or a non-empty list of strings";
const stringOrList = z.union([z.string(), z.array(z.string()).min(1, { error: STRING_OR_LIST })], {
  error: STRING_OR_LIST,
});
const conditionScalar = z.union([z.string(), z.number(), z.boolean()]);
const conditionSchema = z.record(
  z.string(),
  z.record(z.string(), z.union([conditionScalar, z.array(conditionScalar).min(1)]), {
    error: 'must be an object of condition keys and values, such as { "aws:SecureTransport": "true" }',
  }),
  {
    error: 'must be an object of condition operators, such as { "Bool": { "aws:SecureTransport": "true" } }',
  },
);
const statementSchema = z.strictObject(
  {
    Sid: z.string({ error: "must be a string" }).optional(),
    Effect: z.enum(["Allow", "Deny"], { error: 'must be "Allow" or "Deny"' }),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: conditionSchema.optional(),
    Principal: z.unknown().optional(),
    NotPrincipal: z.unknown().optional(),
  },
  { error: "must be an object" },
);
const documentSchema = z.strictObject(
  {
    Version: z.string({ error: "must be a string" }).optional(),
    Id: z.string({ error: "must be a string" }).optional(),
    Statement: z.unknown().refine((value) => value !== undefined, { error: "is missing" }),
  },
  { error: "a policy document must be a JSON object" },
);

const STATEMENT_MEMBERS = Object.keys(statementSchema.shape);
const DOCUMENT_MEMBERS = Object.keys(documentSchema.shape);

const asList = (value: string | readonly string[] | undefined): readonly string[] | undefined =>
  value === undefined ? undefined : typeof value === "string" ? [value] : value;

/** Reads and checks a policy document; never throws for bad input (the findings say what is wrong). */
export function checkPolicyText(text: string, options: CheckOptions = {}): PolicyCheck {
  const name = options.name ?? "the policy";
  let source: JsonSource;
  try {
    source = parseJsonSource(text, name);
  } catch (error) {
    if (!(error instanceof HourglassError)) throw error;
    const { line = 1, column = 1 } = error.context as { line?: number; column?: number };
    return { findings: [{ severity: "error", path: "(document)", line, column, message: error.message }] };
  }
  const findings: Finding[] = [];
  const report = (severity: Finding["severity"], path: JsonPath, message: string) => {
    const { line, column } = source.positionOf(path);
    findings.push({ severity, path: formatJsonPath(path), line, column, message });
  };

  const top = documentSchema.safeParse(source.value);
  if (!top.success) {
    reportZodIssues(top.error.issues, [], DOCUMENT_MEMBERS, report);
    if (typeof source.value !== "object" || source.value === null || Array.isArray(source.value))
      return { findings };
  }
  const raw = source.value as Record<string, unknown>;
  const version = typeof raw["Version"] === "string" ? raw["Version"] : undefined;
  if (version === undefined && raw["Version"] === undefined)
    report(
      "warning",
      [],
      `no Version: IAM then reads the policy as version 2008-10-17; add "Version": "${POLICY_VERSION}"`,
    );
  else if (version !== undefined && version !== POLICY_VERSION && version !== "2008-10-17")
    report(
      "error",
      ["Version"],
      `Version '${version}' is not a policy language version: use "${POLICY_VERSION}" (it is a fixed date, not today's)`,
    );

  const rawStatements = raw["Statement"];
  const statementList = Array.isArray(rawStatements)
    ? rawStatements
    : rawStatements === undefined
      ? []
      : [rawStatements];
  if (Array.isArray(rawStatements) && rawStatements.length === 0)
    report("error", ["Statement"], "Statement is an empty list: a policy needs at least one statement");
  const statements: PolicyStatement[] = [];
  const sids = new Map<string, number>();
  statementList.forEach((rawStatement, index) => {
    const at: JsonPath = Array.isArray(rawStatements) ? ["Statement", index] : ["Statement"];
    const statement = checkStatement(rawStatement, index, at, report, options.scope);
    if (statement === undefined) return;
    if (statement.sid !== undefined) {
      const first = sids.get(statement.sid);
      if (first !== undefined)
        report(
          "error",
          [...at, "Sid"],
          `Sid '${statement.sid}' is also statement ${first}'s: Sids must be unique in a policy`,
        );
      else sids.set(statement.sid, index);
    }
    statements.push(statement);
  });

  const hasErrors = findings.some((f) => f.severity === "error");
  const document: PolicyDocument | undefined =
    statements.length === statementList.length && statementList.length > 0 && !hasErrors
      ? {
          name,
          version: version ?? "2008-10-17",
          ...(typeof raw["Id"] === "string" ? { id: raw["Id"] } : {}),
          statements,
        }
      : undefined;
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return document === undefined ? { findings } : { document, findings };
}

type Report = (severity: Finding["severity"], path: JsonPath, message: string) => void;

function reportZodIssues(
  issues: readonly z.core.$ZodIssue[],
  at: JsonPath,
  members: readonly string[],
  report: Report,
) {
  for (const issue of issues) {
    const path = [...at, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const close = members.find((member) => member.toLowerCase() === key.toLowerCase());
        report(
          "error",
          [...path, key],
          `unknown member "${key}"${close ? ` (did you mean "${close}"?)` : ""}: ${at.length === 0 ? "a policy has" : "a statement has"} ${members.join(", ")}`,
        );
      }
      continue;
    }
    const field = formatJsonPath(path);
    const message = issue.message;
    report("error", path, `${field} ${message}`);
  }
}

function checkStatement(
  value: unknown,
  index: number,
  at: JsonPath,
  report: Report,
  scope: ArnScope | undefined,
): PolicyStatement | undefined {
  const parsed = statementSchema.safeParse(value);
  if (!parsed.success) {
    reportZodIssues(parsed.error.issues, at, STATEMENT_MEMBERS, report);
    return undefined;
  }
  const s = parsed.data;
  let ok = true;
  const error = (path: JsonPath, message: string) => {
    ok = false;
    report("error", path, message);
  };
  const label = `statement ${index}${s.Sid ? ` (${s.Sid})` : ""}`;

  if (s.Principal !== undefined || s.NotPrincipal !== undefined)
    error(
      [...at, s.Principal !== undefined ? "Principal" : "NotPrincipal"],
      `${label} names a Principal: Hourglass's policies are identity policies, attached to principals and roles, and name no Principal (as IAM refuses one in an identity policy)`,
    );
  if ((s.Action === undefined) === (s.NotAction === undefined))
    error(at, `${label} must have exactly one of Action or NotAction`);
  if ((s.Resource === undefined) === (s.NotResource === undefined))
    error(at, `${label} must have exactly one of Resource or NotResource`);

  const actionKey = s.Action !== undefined ? "Action" : "NotAction";
  const actions = asList(s.Action ?? s.NotAction) ?? [];
  actions.forEach((action, i) => {
    const problem = checkAction(action);
    if (problem === null) return;
    const path = typeof (s.Action ?? s.NotAction) === "string" ? [...at, actionKey] : [...at, actionKey, i];
    if (problem.severity === "error") error(path, problem.message);
    else report("warning", path, problem.message);
  });

  const resourceKey = s.Resource !== undefined ? "Resource" : "NotResource";
  const resources = asList(s.Resource ?? s.NotResource) ?? [];
  resources.forEach((resource, i) => {
    const path =
      typeof (s.Resource ?? s.NotResource) === "string" ? [...at, resourceKey] : [...at, resourceKey, i];
    const problem = checkResource(resource, scope);
    if (problem === null) return;
    if (problem.severity === "error") error(path, problem.message);
    else report("warning", path, problem.message);
  });

  const conditions: ConditionEntry[] = [];
  for (const [operatorText, keys] of Object.entries(s.Condition ?? {})) {
    const operatorPath = [...at, "Condition", operatorText];
    const parsedOperator = parseOperator(operatorText);
    if ("problem" in parsedOperator) {
      error(operatorPath, parsedOperator.problem);
      continue;
    }
    for (const [key, rawValues] of Object.entries(keys)) {
      const values = (Array.isArray(rawValues) ? rawValues : [rawValues]).map(String);
      values.forEach((v, i) => {
        const problem = checkConditionValue(parsedOperator.operator.spec.family, v);
        if (problem)
          error(
            Array.isArray(rawValues) ? [...operatorPath, key, i] : [...operatorPath, key],
            `${operatorText} on ${key}: ${problem}`,
          );
      });
      if (key.includes("${") || values.some((v) => v.includes("${")))
        report(
          "warning",
          [...operatorPath, key],
          `policy variables (such as ${"$"}{aws:username}) are not substituted by Hourglass: the text is compared as written`,
        );
      conditions.push({ operatorText, operator: parsedOperator.operator, key, values });
    }
  }

  if (ok && s.Action !== undefined && s.Resource !== undefined)
    checkReach(
      label,
      actions,
      resources,
      (i) => (typeof s.Action === "string" ? [...at, "Action"] : [...at, "Action", i]),
      report,
      error,
    );

  if (!ok) return undefined;
  return {
    index,
    ...(s.Sid !== undefined ? { sid: s.Sid } : {}),
    effect: s.Effect,
    ...(s.Action !== undefined ? { action: actions } : { notAction: actions }),
    ...(s.Resource !== undefined ? { resource: resources } : { notResource: resources }),
    conditions,
  };
}

interface Problem {
  severity: Finding["severity"];
  message: string;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function checkAction(action: string): Problem | null {
  if (action === "*") return null;
  const colon = action.indexOf(":");
  if (colon <= 0 || colon === action.length - 1 || action.indexOf(":", colon + 1) >= 0)
    return {
      severity: "error",
      message: `'${action}' is not an action: write service:Action, such as s3:GetObject`,
    };
  const service = action.slice(0, colon).toLowerCase();
  if (!KNOWN_SERVICES.includes(service)) {
    if (/[*?]/.test(service))
      return { severity: "error", message: `'${action}': a wildcard in the service prefix is not allowed` };
    return {
      severity: "warning",
      message: `'${action}' is an action of '${service}', a service Hourglass does not serve: it never applies here (Hourglass knows ${KNOWN_SERVICES.join(", ")})`,
    };
  }
  if (hasWildcard(action)) {
    if (KNOWN_ACTIONS.some((known) => wildcardMatches(action, known, true))) return null;
    return { severity: "error", message: `'${action}' matches no ${service} action` };
  }
  if (canonicalAction(action) !== undefined) return null;
  const wanted = action.toLowerCase();
  const close = KNOWN_ACTIONS.filter((known) => known.startsWith(`${service}:`))
    .map((known) => ({ known, d: distance(known.toLowerCase(), wanted) }))
    .sort((a, b) => a.d - b.d)[0];
  return {
    severity: "error",
    message: `unknown action '${action}'${close && close.d <= 3 ? ` (did you mean ${close.known}?)` : ""}: AWS defines no such ${service} action`,
  };
}

const SHAPE_HINT =
  "arn:aws:timestream:REGION:ACCOUNT:database/D[/table/T], arn:aws:kinesis:REGION:ACCOUNT:stream/S, arn:aws:s3:::BUCKET[/KEY]";

function checkResource(resource: string, scope: ArnScope | undefined): Problem | null {
  if (resource === "*") return null;
  const parsed = parseArn(resource);
  if ("problem" in parsed)
    return {
      severity: "error",
      message: `malformed ARN: ${parsed.problem} (Hourglass's ARNs: ${SHAPE_HINT}, or "*")`,
    };
  const { arn } = parsed;
  if (!hasWildcard(arn.partition) && !(PARTITIONS as readonly string[]).includes(arn.partition))
    return {
      severity: "error",
      message: `malformed ARN '${resource}': '${arn.partition}' is not a partition (aws, aws-cn, aws-us-gov)`,
    };
  const service = arn.service;
  if (service === "s3") {
    if (arn.region !== "" || arn.account !== "")
      return {
        severity: "error",
        message: `malformed ARN '${resource}': S3 bucket and object ARNs have no region or account (arn:aws:s3:::BUCKET/KEY)`,
      };
    return null;
  }
  if (service === "timestream" || service === "kinesis") {
    const shape =
      service === "timestream"
        ? /^(database\/[^/]+(\/table\/[^/]+)?|scheduled-query\/.+)$/
        : /^(stream\/[^/]+(\/consumer\/.+)?)$/;
    if (!hasWildcard(arn.resource) && !shape.test(arn.resource))
      return {
        severity: "error",
        message: `malformed ARN '${resource}': a ${service} resource is ${service === "timestream" ? "database/D or database/D/table/T" : "stream/S"}`,
      };
    if (scope !== undefined) {
      const mismatch: string[] = [];
      if (!wildcardMatches(arn.account, scope.account, false))
        mismatch.push(`account ${arn.account} (Hourglass's is ${scope.account})`);
      if (!wildcardMatches(arn.region, scope.region, false))
        mismatch.push(`region ${arn.region} (Hourglass's is ${scope.region})`);
      if (mismatch.length > 0)
        return {
          severity: "warning",
          message: `'${resource}' names ${mismatch.join(" and ")}: it matches none of this Hourglass's resources; set accountId and region in hourglass.yaml to map them`,
        };
    }
    return null;
  }
  if (hasWildcard(service)) return null;
  return {
    severity: "warning",
    message: `'${resource}' is a ${service} ARN, a service Hourglass does not serve: it never matches here`,
  };
}

/** The ARN shape of each kind as a pattern for overlap tests: `#` is one name (no `/`), `&` any text. */
const KIND_TEMPLATES: Readonly<Record<Exclude<ResourceKind, "*">, string>> = {
  database: "arn:aws:timestream:#:#:database/#",
  table: "arn:aws:timestream:#:#:database/#/table/#",
  stream: "arn:aws:kinesis:#:#:stream/#",
  bucket: "arn:aws:s3:::#",
  object: "arn:aws:s3:::#/&",
};

const canReachKind = (pattern: string, kind: ResourceKind): boolean =>
  kind === "*" ? wildcardMatches(pattern, "*", false) : patternsCanOverlap(pattern, KIND_TEMPLATES[kind]);

/**
 * Statements that can never match: for each action Hourglass uses, is there a Resource that can
 * name what the action is checked against? None for every action → the statement is dead (an
 * error); none for one named action → that action is (a warning: the seed's ListTables on a
 * table ARN, where ListTables is checked against the database).
 */
function checkReach(
  label: string,
  actions: readonly string[],
  resources: readonly string[],
  actionPath: (index: number) => JsonPath,
  report: Report,
  error: (path: JsonPath, message: string) => void,
) {
  let anyUsable = false;
  let anyKnown = false;
  const deadLiterals: number[] = [];
  for (const [index, action] of actions.entries()) {
    const kindsByAction = kindsOfActionPattern(action);
    if (kindsByAction.length === 0) continue;
    anyKnown = true;
    const usable = kindsByAction.some(([, kinds]) =>
      [...kinds].some((kind) => resources.some((resource) => canReachKind(resource, kind))),
    );
    if (usable) anyUsable = true;
    else if (!hasWildcard(action)) deadLiterals.push(index);
  }
  if (!anyKnown) return;
  if (!anyUsable) {
    error(
      actionPath(0),
      `${label} can never match: none of its actions is checked against any of its resources (${resources.join(", ")}); ${describeNeeds(actions)}`,
    );
    return;
  }
  for (const index of deadLiterals)
    report(
      "warning",
      actionPath(index),
      `${label}: ${actions[index]} never applies with these resources: ${describeNeeds([actions[index]!])}`,
    );
}

/** The actions Hourglass uses that a pattern names, each with the resource kinds it is checked against. */
function kindsOfActionPattern(action: string): [string, ReadonlySet<ResourceKind>][] {
  if (!hasWildcard(action)) {
    const kinds = RESOURCE_KINDS_OF_ACTION.get(action.toLowerCase());
    return kinds === undefined ? [] : [[action.toLowerCase(), kinds]];
  }
  const matches = wildcardMatcher(action, true);
  return [...RESOURCE_KINDS_OF_ACTION].filter(([known]) => matches(known));
}

function describeNeeds(actions: readonly string[]): string {
  const parts: string[] = [];
  for (const action of actions) {
    const kinds = kindsOfActionPattern(action);
    const shapes = new Set(kinds.flatMap(([, k]) => [...k].map((kind) => RESOURCE_SHAPES[kind])));
    if (shapes.size > 0) parts.push(`${action} is checked against ${[...shapes].join(" or ")}`);
  }
  return parts.join("; ");
}

/** A checked document, or a ValidationError listing each error with its path and line. */
export function loadPolicy(
  text: string,
  options: CheckOptions = {},
): { document: PolicyDocument; warnings: Finding[] } {
  const { document, findings } = checkPolicyText(text, options);
  const errors = findings.filter((f) => f.severity === "error");
  if (document === undefined || errors.length > 0) {
    const list = errors
      .map((f) => `  ${f.path} (line ${f.line}, column ${f.column}): ${f.message}`)
      .join("\n");
    throw new HourglassError(
      "ValidationError",
      `${options.name ?? "the policy"} is not a valid policy (${errors.length} error${errors.length === 1 ? "" : "s"}):\n${list}\nRun hourglass policy validate on it for the details.`,
      { context: { findings: errors } },
    );
  }
  return { document, warnings: findings.filter((f) => f.severity === "warning") };
}
