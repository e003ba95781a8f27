/**
 * Policy evaluation as IAM does it for identity policies ("Policy evaluation logic",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * a statement applies when its action, resource and every condition match; any applicable Deny
 * decides (explicit deny); otherwise any applicable Allow decides; otherwise the request is
 * denied (implicit deny). The answer names the deciding statement and says why.
 *
 * Speed (bench/policy.ts): documents are compiled once (matchers per pattern, plain string
 * comparison where there is no wildcard); the statements whose Action matches are remembered per
 * action, since a server sees few distinct actions; and among those, statements are indexed by
 * the literal start of their Resource patterns (the text before the first wildcard), so that a
 * call tests only the statements whose patterns could match its ARN's first characters, instead
 * of every statement of a 10,000-statement policy.
 */
import { type ArnMatcher, arnPatternMatcher, literalPrefix, splitArn } from "./arn.js";
import { type CompiledCondition, compileCondition, type RequestContext } from "./conditions.js";
import type { PolicyDocument, PolicyStatement } from "./policy.js";
import { type Matcher, wildcardMatcher } from "./wildcard.js";

export interface AccessRequest {
  /** `service:Action`, any case (IAM compares actions case-insensitively). */
  action: string;
  /** The ARN the action is checked against, or `*` for actions without resource-level permissions. */
  resource: string;
  /** Condition keys (lower case) and their values; see requestContext(). */
  context?: RequestContext;
}

export interface StatementRef {
  /** The policy's name (its file, or its name in a stack). */
  policy: string;
  /** Position in the policy's Statement list. */
  index: number;
  sid?: string;
  effect: "Allow" | "Deny";
}

export interface Decision {
  decision: "allow" | "deny";
  reason: "explicit-deny" | "allowed" | "implicit-deny";
  /** The deciding statement (none for an implicit deny). */
  statement?: StatementRef;
  /** One sentence: the decision, the statement, the action and the resource. */
  message: string;
  /** On an implicit deny: Allow statements for this action that did not apply, and why (at most 5). */
  nearMisses?: { statement: StatementRef; why: string }[];
}

interface CompiledStatement {
  ref: StatementRef;
  actionMatchers: Matcher[];
  notAction: boolean;
  /** The literal start of each Resource pattern; "" when one starts with a wildcard or is a NotResource. */
  resourcePrefixes: readonly string[];
  resourceMatchers: ArnMatcher[];
  notResource: boolean;
  conditions: CompiledCondition[];
}

const EMPTY_CONTEXT: RequestContext = new Map();
/** Distinct actions remembered; past it the memory starts again (only unusual callers get there). */
const MAX_CACHED_ACTIONS = 4096;

export const describeStatement = (ref: StatementRef): string =>
  `statement ${ref.index}${ref.sid ? ` (${ref.sid})` : ""} of ${ref.policy}`;

function compileStatement(policy: string, statement: PolicyStatement): CompiledStatement {
  const actions = statement.action ?? statement.notAction ?? [];
  const resources = statement.resource ?? statement.notResource ?? [];
  return {
    ref: {
      policy,
      index: statement.index,
      ...(statement.sid !== undefined ? { sid: statement.sid } : {}),
      effect: statement.effect,
    },
    actionMatchers: actions.map((action) => wildcardMatcher(action.toLowerCase(), false)),
    notAction: statement.action === undefined,
    resourcePrefixes:
      statement.resource === undefined
        ? [""]
        : [...new Set(resources.map((resource) => literalPrefix(resource)))],
    resourceMatchers: resources.map((resource) => arnPatternMatcher(resource)),
    notResource: statement.resource === undefined,
    conditions: statement.conditions.map((c) =>
      compileCondition(c.operatorText, c.operator, c.key, c.values),
    ),
  };
}

const actionMatches = (s: CompiledStatement, lowerAction: string): boolean =>
  s.actionMatchers.some((m) => m(lowerAction)) !== s.notAction;
const resourceMatches = (s: CompiledStatement, resource: string, parts: readonly string[] | null): boolean =>
  s.resourceMatchers.some((m) => m(resource, parts)) !== s.notResource;
const failedCondition = (s: CompiledStatement, context: RequestContext): CompiledCondition | undefined =>
  s.conditions.find((c) => !c.test(context));

/** Below this many statements for an action, testing each is as fast as using the index. */
const INDEX_FROM_STATEMENTS = 32;

/**
 * The statements of one effect for one action, in document order, with an index from the literal
 * start of each Resource pattern to the statements holding it. A NotResource statement, or one
 * whose pattern starts with a wildcard, is a candidate for every ARN.
 */
class StatementList {
  private readonly byPrefix = new Map<string, number[]>();
  private readonly prefixLengths: number[] = [];
  private readonly always: number[] = [];

  constructor(readonly statements: readonly CompiledStatement[]) {
    if (statements.length < INDEX_FROM_STATEMENTS) return;
    const lengths = new Set<number>();
    statements.forEach((s, index) => {
      if (s.resourcePrefixes.includes("")) {
        this.always.push(index);
        return;
      }
      for (const prefix of s.resourcePrefixes) {
        const list = this.byPrefix.get(prefix);
        if (list === undefined) this.byPrefix.set(prefix, [index]);
        else list.push(index);
        lengths.add(prefix.length);
      }
    });
    this.prefixLengths = [...lengths].sort((a, b) => a - b);
  }

  /** The statements that could match the resource, in document order (all of them when unindexed). */
  candidates(resource: string): readonly CompiledStatement[] {
    if (this.statements.length < INDEX_FROM_STATEMENTS) return this.statements;
    let indices = this.always;
    for (const length of this.prefixLengths) {
      if (length > resource.length) break;
      const hits = this.byPrefix.get(resource.slice(0, length));
      if (hits !== undefined) indices = indices.length === 0 ? hits : [...indices, ...hits];
    }
    if (indices !== this.always && indices.length > 1) indices = [...new Set(indices)].sort((a, b) => a - b);
    return indices.map((index) => this.statements[index]!);
  }

  /** The first statement, in document order, that applies to the request. */
  firstApplying(
    resource: string,
    parts: readonly string[] | null,
    context: RequestContext,
  ): CompiledStatement | undefined {
    return this.candidates(resource).find(
      (s) => resourceMatches(s, resource, parts) && failedCondition(s, context) === undefined,
    );
  }
}

/** The policies that apply to one principal (or role), compiled for evaluation. */
export class PolicySet {
  private readonly denies: CompiledStatement[] = [];
  private readonly allows: CompiledStatement[] = [];
  private readonly byAction = new Map<string, { denies: StatementList; allows: StatementList }>();

  constructor(documents: readonly PolicyDocument[]) {
    for (const document of documents)
      for (const statement of document.statements) {
        const compiled = compileStatement(document.name, statement);
        (statement.effect === "Deny" ? this.denies : this.allows).push(compiled);
      }
  }

  /**
   * Builds the statement lists of these actions now (a server passes the actions it checks, at
   * load), so that no request pays for it; other actions are built on their first request.
   */
  prepare(actions: readonly string[]): this {
    for (const action of actions) this.forAction(action.toLowerCase());
    return this;
  }

  get statementCount(): number {
    return this.denies.length + this.allows.length;
  }

  private forAction(lowerAction: string) {
    let entry = this.byAction.get(lowerAction);
    if (entry === undefined) {
      if (this.byAction.size >= MAX_CACHED_ACTIONS) this.byAction.clear();
      entry = {
        denies: new StatementList(this.denies.filter((s) => actionMatches(s, lowerAction))),
        allows: new StatementList(this.allows.filter((s) => actionMatches(s, lowerAction))),
      };
      this.byAction.set(lowerAction, entry);
    }
    return entry;
  }

  evaluate(request: AccessRequest): Decision {
    const lowerAction = request.action.toLowerCase();
    const context = request.context ?? EMPTY_CONTEXT;
    const { denies, allows } = this.forAction(lowerAction);
    const what = `${request.action} on ${request.resource}`;
    const parts = splitArn(request.resource);
    const denying = denies.firstApplying(request.resource, parts, context);
    if (denying !== undefined)
      return {
        decision: "deny",
        reason: "explicit-deny",
        statement: denying.ref,
        message: `denied: ${describeStatement(denying.ref)} denies ${what} (an explicit deny wins over any allow)`,
      };
    const allowing = allows.firstApplying(request.resource, parts, context);
    if (allowing !== undefined)
      return {
        decision: "allow",
        reason: "allowed",
        statement: allowing.ref,
        message: `allowed: ${describeStatement(allowing.ref)} allows ${what}`,
      };
    // The slow path runs only on a denial: say which Allow statements came close, those whose
    // Resource matched (a condition failed) first, then those whose Resource starts alike.
    const candidates = allows.candidates(request.resource);
    const close = [
      ...candidates.filter((s) => resourceMatches(s, request.resource, parts)),
      ...candidates.filter((s) => !resourceMatches(s, request.resource, parts)),
    ];
    if (close.length < 5) close.push(...allows.statements.slice(0, 5));
    const nearMisses = [...new Set(close)].slice(0, 5).map((s) => {
      const failed = resourceMatches(s, request.resource, parts) ? failedCondition(s, context) : undefined;
      const why =
        failed === undefined
          ? `its ${s.notResource ? "NotResource excludes" : "Resource does not match"} ${request.resource}`
          : `its condition ${failed.operator} on ${failed.key} (${failed.values.join(", ")}) is not met${context.has(failed.key.toLowerCase()) ? "" : `: the request has no ${failed.key}`}`;
      return { statement: s.ref, why };
    });
    const hint =
      nearMisses.length > 0
        ? `; ${nearMisses.map((n) => `${describeStatement(n.statement)} allows the action but ${n.why}`).join("; ")}`
        : "";
    return {
      decision: "deny",
      reason: "implicit-deny",
      message: `denied: no statement allows ${what} (implicit deny)${hint}`,
      ...(nearMisses.length > 0 ? { nearMisses } : {}),
    };
  }
}
