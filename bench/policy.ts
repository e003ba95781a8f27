/**
 * Policy evaluation: one call against a policy of 10,000 statements (goal: under 1 ms a call),
 * against the same calls on a 1-statement policy as the baseline; the ratio is printed.
 *
 * The large policy is the worst case for the per-action index: every statement names the same
 * actions (timestream:Select and DescribeTable on one table each, as a policy listing 10,000
 * tables would), one in seven has an IpAddress condition, one in a thousand is a Deny. Calls:
 * an allow decided by the last statement, an allow decided by the first, an implicit deny
 * (no statement names the table), an explicit deny, and the first call of an action (which builds that
 * action's statement list, once per action; a server prepares its actions when it loads a policy,
 * so it is printed apart). Loading (parse and check) and preparing the document are timed once.
 *
 * Usage: node --import tsx bench/policy.ts [statements, default 10000] [calls per case, default 20000]
 */
import { performance } from "node:perf_hooks";
import { loadPolicy, PolicySet, requestContext } from "../src/access/index.js";
import { median } from "./util.js";

const statements = Number(process.argv[2] ?? 10_000);
const calls = Number(process.argv[3] ?? 20_000);
const goalMs = 1;
const table = (i: number) => `arn:aws:timestream:us-east-1:000000000000:database/db-${i}/table/t-${i}`;

function bigPolicyText(count: number): string {
  const list = Array.from({ length: count }, (_, i) => {
    if (i % 1000 === 999)
      return { Sid: `Deny${i}`, Effect: "Deny", Action: "timestream:Select", Resource: `${table(i)}-secret` };
    return {
      Sid: `Read${i}`,
      Effect: "Allow",
      Action: ["timestream:Select", "timestream:DescribeTable"],
      Resource: `${table(i)}*`,
      ...(i % 7 === 3
        ? { Condition: { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"] } } }
        : {}),
    };
  });
  return JSON.stringify({ Version: "2012-10-17", Statement: list });
}

const smallPolicyText = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["timestream:Select", "timestream:DescribeTable"], Resource: `${table(0)}*` },
  ],
});

const context = requestContext({ "aws:SourceIp": "10.1.2.3", "aws:SecureTransport": "false" });

/** Median of five runs of `calls` evaluations, in microseconds a call. */
function perCallUs(set: PolicySet, action: string, resource: string, expected: string): number {
  const first = set.evaluate({ action, resource, context });
  if (first.decision !== expected) throw new Error(`${action} on ${resource}: ${first.message}`);
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) set.evaluate({ action, resource, context });
    runs.push(((performance.now() - start) * 1000) / calls);
  }
  return median(runs);
}

const loadStart = performance.now();
const big = loadPolicy(bigPolicyText(statements), { name: "big.json" }).document;
const loadMs = performance.now() - loadStart;
const small = loadPolicy(smallPolicyText, { name: "small.json" }).document;
const prepareStart = performance.now();
const bigSet = new PolicySet([big]).prepare(["timestream:Select", "timestream:WriteRecords"]);
const prepareMs = performance.now() - prepareStart;
const smallSet = new PolicySet([small]).prepare(["timestream:Select", "timestream:WriteRecords"]);

// The last Allow statement (not a Deny, not one with a condition the context fails).
const last = statements - 2;
const cases: { name: string; action: string; big: string; small: string; expected: string }[] = [
  {
    name: "allow, last statement",
    action: "timestream:Select",
    big: table(last),
    small: table(0),
    expected: "allow",
  },
  {
    name: "allow, first statement",
    action: "timestream:Select",
    big: table(0),
    small: table(0),
    expected: "allow",
  },
  {
    name: "implicit deny, no table",
    action: "timestream:Select",
    big: table(statements + 5),
    small: table(5),
    expected: "deny",
  },
  {
    name: "other action, deny",
    action: "timestream:WriteRecords",
    big: table(0),
    small: table(0),
    expected: "deny",
  },
];
if (statements >= 1000)
  cases.push({
    name: "explicit deny",
    action: "timestream:Select",
    big: `${table(999)}-secret`,
    small: table(7),
    expected: "deny",
  });

console.log(
  `policy of ${statements.toLocaleString("en-US")} statements: loaded (parsed and checked) in ${loadMs.toFixed(0)} ms`,
);
console.log(`compiled and prepared for 2 actions in ${prepareMs.toFixed(0)} ms`);
console.log(
  `${calls.toLocaleString("en-US")} calls a case, median of 5 runs; baseline: a 1-statement policy\n`,
);
console.log(
  `${"case".padEnd(28)}${"10k statements".padStart(16)}${"baseline".padStart(12)}${"ratio".padStart(9)}`,
);
let worstMs = 0;
for (const c of cases) {
  const bigUs = perCallUs(bigSet, c.action, c.big, c.expected);
  const smallUs = perCallUs(
    smallSet,
    c.action,
    c.small,
    c.expected === "deny" && c.name === "explicit deny" ? "deny" : c.expected,
  );
  worstMs = Math.max(worstMs, bigUs / 1000);
  console.log(
    `${c.name.padEnd(28)}${`${bigUs.toFixed(2)} µs`.padStart(16)}${`${smallUs.toFixed(2)} µs`.padStart(12)}${`${(bigUs / smallUs).toFixed(1)}x`.padStart(9)}`,
  );
}

// The first call of an action on a set not prepared for it builds that action's list of
// statements (once per action): shown apart, since a server prepares its actions at load.
const firstCalls: number[] = [];
for (let run = 0; run < 7; run++) {
  const fresh = new PolicySet([big]);
  const start = performance.now();
  fresh.evaluate({ action: "timestream:Select", resource: table(last), context });
  firstCalls.push(performance.now() - start);
}
const firstMs = median(firstCalls);
console.log(
  `${"first call, unprepared".padEnd(28)}${`${(firstMs * 1000).toFixed(0)} µs`.padStart(16)}  (once per action)`,
);
console.log(
  `\nslowest call: ${(worstMs * 1000).toFixed(1)} µs; goal under ${goalMs} ms a call: ${worstMs < goalMs ? "met" : "NOT met"}`,
);
