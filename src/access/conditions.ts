/**
 * IAM condition operators ("IAM JSON policy elements: Condition operators",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
 * several values of one key are OR'ed (NOR'ed for a negated operator), several keys of one
 * operator and several operators are AND'ed. A key missing from the request makes a positive
 * operator false and a negated one true; `…IfExists` makes any operator true on a missing key;
 * `Null` tests for presence. `ForAnyValue:` / `ForAllValues:` compare multi-valued keys as sets.
 */
import { isIP } from "node:net";
import { arnPatternMatcher, splitArn } from "./arn.js";
import { type Matcher, wildcardMatcher } from "./wildcard.js";

type Family = "string" | "numeric" | "date" | "bool" | "ip" | "arn" | "null";

interface OperatorSpec {
  family: Family;
  negated: boolean;
  /** Compiles one policy value into a test of one request value. */
  compile: (policyValue: string) => (requestValue: string) => boolean;
}

const stringEquals = (p: string) => (r: string) => r === p;
const stringEqualsIgnoreCase = (p: string) => {
  const lower = p.toLowerCase();
  return (r: string) => r.toLowerCase() === lower;
};
const stringLike = (p: string): Matcher => wildcardMatcher(p, false);

const numberOf = (text: string): number => (/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN);
const numeric = (test: (request: number, policy: number) => boolean) => (p: string) => {
  const policy = numberOf(p);
  return (r: string) => {
    const request = numberOf(r);
    return !Number.isNaN(request) && test(request, policy);
  };
};

/** IAM dates: ISO 8601 (a date, or a date and time) or seconds since the epoch. */
export function dateOf(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text))
    return Number.NaN;
  return Date.parse(text);
}
const date = (test: (request: number, policy: number) => boolean) => (p: string) => {
  const policy = dateOf(p);
  return (r: string) => {
    const request = dateOf(r);
    return !Number.isNaN(request) && test(request, policy);
  };
};

/** An address or a CIDR block, v4 or v6; a bare address is a block of one. */
export function parseCidr(text: string): { bytes: Uint8Array; prefix: number } | null {
  const [address = "", prefixText, extra] = text.split("/");
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const bytes = addressBytes(address, version);
  const bits = bytes.length * 8;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > bits) return null;
  return { bytes, prefix };
}

function addressBytes(address: string, version: number): Uint8Array {
  if (version === 4) return Uint8Array.from(address.split(".").map(Number));
  // IPv6 with an embedded IPv4 tail (::ffff:1.2.3.4): turn the tail into two groups first.
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill("0");
  const groups = [...headGroups, ...zeros, ...tailGroups].map((g) => Number.parseInt(g, 16));
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

const inCidr = (p: string) => {
  const block = parseCidr(p);
  return (r: string) => {
    if (block === null) return false;
    const version = isIP(r);
    if (version === 0) return false;
    const bytes = addressBytes(r, version);
    if (bytes.length !== block.bytes.length) return false;
    for (let bit = 0; bit < block.prefix; bit++) {
      const mask = 0x80 >> (bit % 8);
      if ((bytes[bit >> 3]! & mask) !== (block.bytes[bit >> 3]! & mask)) return false;
    }
    return true;
  };
};

const boolOf = (text: string) => text.toLowerCase();

const arnCondition = (p: string) => {
  const matches = arnPatternMatcher(p);
  return (r: string) => matches(r, splitArn(r));
};

export const CONDITION_OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: { family: "string", negated: false, compile: stringEquals },
  StringNotEquals: { family: "string", negated: true, compile: stringEquals },
  StringEqualsIgnoreCase: { family: "string", negated: false, compile: stringEqualsIgnoreCase },
  StringNotEqualsIgnoreCase: { family: "string", negated: true, compile: stringEqualsIgnoreCase },
  StringLike: { family: "string", negated: false, compile: stringLike },
  StringNotLike: { family: "string", negated: true, compile: stringLike },
  NumericEquals: { family: "numeric", negated: false, compile: numeric((r, p) => r === p) },
  NumericNotEquals: { family: "numeric", negated: true, compile: numeric((r, p) => r === p) },
  NumericLessThan: { family: "numeric", negated: false, compile: numeric((r, p) => r < p) },
  NumericLessThanEquals: { family: "numeric", negated: false, compile: numeric((r, p) => r <= p) },
  NumericGreaterThan: { family: "numeric", negated: false, compile: numeric((r, p) => r > p) },
  NumericGreaterThanEquals: { family: "numeric", negated: false, compile: numeric((r, p) => r >= p) },
  DateEquals: { family: "date", negated: false, compile: date((r, p) => r === p) },
  DateNotEquals: { family: "date", negated: true, compile: date((r, p) => r === p) },
  DateLessThan: { family: "date", negated: false, compile: date((r, p) => r < p) },
  DateLessThanEquals: { family: "date", negated: false, compile: date((r, p) => r <= p) },
  DateGreaterThan: { family: "date", negated: false, compile: date((r, p) => r > p) },
  DateGreaterThanEquals: { family: "date", negated: false, compile: date((r, p) => r >= p) },
  Bool: { family: "bool", negated: false, compile: (p) => (r) => boolOf(r) === boolOf(p) },
  IpAddress: { family: "ip", negated: false, compile: inCidr },
  NotIpAddress: { family: "ip", negated: true, compile: inCidr },
  ArnEquals: { family: "arn", negated: false, compile: arnCondition },
  ArnLike: { family: "arn", negated: false, compile: arnCondition },
  ArnNotEquals: { family: "arn", negated: true, compile: arnCondition },
  ArnNotLike: { family: "arn", negated: true, compile: arnCondition },
  Null: { family: "null", negated: false, compile: (p) => () => boolOf(p) === "true" },
};

/** IAM operators Hourglass does not evaluate: named apart so the error says so, not "unknown". */
export const UNSUPPORTED_OPERATORS = new Set(["BinaryEquals"]);

export interface ParsedOperator {
  base: string;
  spec: OperatorSpec;
  ifExists: boolean;
  set: "ForAnyValue" | "ForAllValues" | null;
}

/** `ForAnyValue:StringLikeIfExists` → its parts; a problem if the operator is not one IAM has. */
export function parseOperator(text: string): { operator: ParsedOperator } | { problem: string } {
  let rest = text;
  let set: ParsedOperator["set"] = null;
  for (const qualifier of ["ForAnyValue", "ForAllValues"] as const) {
    if (rest.startsWith(`${qualifier}:`)) {
      set = qualifier;
      rest = rest.slice(qualifier.length + 1);
    }
  }
  const ifExists = rest.endsWith("IfExists");
  const base = ifExists ? rest.slice(0, -"IfExists".length) : rest;
  if (UNSUPPORTED_OPERATORS.has(base))
    return { problem: `the condition operator ${text} is IAM's, but Hourglass does not evaluate it` };
  const spec = CONDITION_OPERATORS[base];
  if (spec === undefined) {
    const close = Object.keys(CONDITION_OPERATORS).find((name) => name.toLowerCase() === base.toLowerCase());
    return {
      problem: `unknown condition operator '${text}'${close ? ` (did you mean ${close}?)` : ""}: use one of ${Object.keys(CONDITION_OPERATORS).join(", ")}, with an optional IfExists suffix or ForAnyValue:/ForAllValues: prefix`,
    };
  }
  if (ifExists && base === "Null") return { problem: "the Null operator cannot take IfExists" };
  return { operator: { base, spec, ifExists, set } };
}

/** What is wrong with a policy value for an operator's family, or null. */
export function checkConditionValue(family: Family, value: string): string | null {
  switch (family) {
    case "numeric":
      return Number.isNaN(numberOf(value)) ? `'${value}' is not a number` : null;
    case "date":
      return Number.isNaN(dateOf(value))
        ? `'${value}' is not a date: use ISO 8601 (2026-12-31T23:59:59Z) or seconds since 1970`
        : null;
    case "bool":
    case "null":
      return ["true", "false"].includes(value.toLowerCase()) ? null : `'${value}' is not true or false`;
    case "ip":
      return parseCidr(value) === null
        ? `'${value}' is not an IP address or CIDR block (203.0.113.0/24, 2001:db8::/32)`
        : null;
    default:
      return null;
  }
}

/** The request context: condition keys (lower case, as IAM compares key names) and their values. */
export type RequestContext = ReadonlyMap<string, readonly string[]>;

export function requestContext(entries: Record<string, string | readonly string[]>): RequestContext {
  const map = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(entries)) {
    const values = typeof value === "string" ? [value] : value;
    map.set(key.toLowerCase(), [...(map.get(key.toLowerCase()) ?? []), ...values]);
  }
  return map;
}

/** One key of one operator, compiled; `test` answers for a request context. */
export interface CompiledCondition {
  operator: string;
  key: string;
  values: readonly string[];
  test(context: RequestContext): boolean;
}

export function compileCondition(
  operatorText: string,
  operator: ParsedOperator,
  key: string,
  values: readonly string[],
): CompiledCondition {
  const { spec, ifExists, set, base } = operator;
  const lowerKey = key.toLowerCase();
  const tests = values.map((value) => spec.compile(value));
  const anyPolicyValue = (requestValue: string) => tests.some((test) => test(requestValue));
  const test = (context: RequestContext): boolean => {
    const requestValues = context.get(lowerKey);
    const present = requestValues !== undefined && requestValues.length > 0;
    if (base === "Null") return tests.some((t) => t("")) === !present;
    if (!present) {
      if (ifExists) return true;
      // ForAllValues over no values is true (vacuously) and ForAnyValue false, as IAM documents.
      if (set === "ForAllValues") return true;
      if (set === "ForAnyValue") return false;
      return spec.negated;
    }
    if (set === "ForAnyValue") {
      return spec.negated
        ? requestValues.some((r) => !anyPolicyValue(r))
        : requestValues.some((r) => anyPolicyValue(r));
    }
    if (set === "ForAllValues" || spec.negated) {
      // A negated operator is a NOR of its values: no request value may match any of them.
      return spec.negated
        ? requestValues.every((r) => !anyPolicyValue(r))
        : requestValues.every((r) => anyPolicyValue(r));
    }
    return requestValues.some((r) => anyPolicyValue(r));
  };
  return { operator: operatorText, key, values, test };
}
