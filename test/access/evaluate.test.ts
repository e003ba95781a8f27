/**
 * Policy evaluation: the seed's two MWAA policies verbatim (the S3 one with the `]` its post
 * lost), wildcards, NotAction / NotResource, each condition operator, and deny over allow.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type Decision,
  loadPolicy,
  type PolicyDocument,
  PolicySet,
  requestContext,
  resourceArns,
} from "../../src/access/index.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const fixture = (name: string): PolicyDocument =>
  loadPolicy(fs.readFileSync(path.join(fixtures, name), "utf8"), { name }).document;

/** A policy from an object (statements as written in JSON). */
const policy = (statements: unknown[], name = "test.json"): PolicyDocument =>
  loadPolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }), { name }).document;

const decide = (
  documents: PolicyDocument[],
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Decision => new PolicySet(documents).evaluate({ action, resource, context: requestContext(context) });

// The seed's account and region, mapped as its stack would map them.
const seed = resourceArns({ account: "704533066374", region: "eu-west-1" });

describe("the seed's MWAA policies, verbatim", () => {
  const documents = [fixture("seed-timestream-policy.json"), fixture("seed-s3-policy.json")];

  it("allow the seed DAG's query of its table and its DescribeEndpoints", () => {
    const select = decide(documents, "timestream:Select", seed.table("airflow-db", "airflow-table"));
    assert.equal(select.decision, "allow");
    assert.equal(select.statement?.policy, "seed-timestream-policy.json");
    assert.equal(select.statement?.index, 0);
    assert.match(select.message, /statement 0 of seed-timestream-policy.json allows timestream:Select/);
    const endpoints = decide(documents, "timestream:DescribeEndpoints", "*");
    assert.equal(endpoints.decision, "allow");
    assert.equal(endpoints.statement?.index, 1);
  });

  it("allow the export's PutObject into its bucket, and reading and listing that bucket", () => {
    const key = "2021-09-22-13/my_file.csv";
    assert.equal(
      decide(documents, "s3:PutObject", seed.object("demo-airflow-ts-output", key)).decision,
      "allow",
    );
    assert.equal(
      decide(documents, "s3:GetObject", seed.object("demo-airflow-ts-output", key)).decision,
      "allow",
    );
    assert.equal(decide(documents, "s3:ListBucket", seed.bucket("demo-airflow-ts-output")).decision, "allow");
    // s3:GetBucket* covers GetBucketLocation, which boto3 asks before some calls.
    assert.equal(
      decide(documents, "s3:GetBucketLocation", seed.bucket("demo-airflow-ts-output")).decision,
      "allow",
    );
  });

  it("deny a query of another table, a write into the table, and a put into another bucket", () => {
    const other = decide(documents, "timestream:Select", seed.table("airflow-db", "other-table"));
    assert.equal(other.decision, "deny");
    assert.equal(other.reason, "implicit-deny");
    assert.match(other.message, /its Resource does not match/);
    const write = decide(documents, "timestream:WriteRecords", seed.table("airflow-db", "airflow-table"));
    assert.equal(write.decision, "deny");
    assert.equal(write.statement, undefined);
    assert.match(
      write.message,
      /no statement allows timestream:WriteRecords on arn:aws:timestream:eu-west-1/,
    );
    const put = decide(documents, "s3:PutObject", seed.object("another-bucket", "2021-09-22-13/my_file.csv"));
    assert.equal(put.decision, "deny");
    // An object deletion is not in the policy either.
    const del = decide(documents, "s3:DeleteObject", seed.object("demo-airflow-ts-output", "a.csv"));
    assert.equal(del.decision, "deny");
  });

  it("do not reach Hourglass's own account and region until they are mapped", () => {
    const local = resourceArns();
    assert.equal(
      decide(documents, "timestream:Select", local.table("airflow-db", "airflow-table")).decision,
      "deny",
    );
  });

  it("refuse the S3 policy exactly as the post printed it (its Resource list is never closed)", () => {
    const text = fs.readFileSync(path.join(fixtures, "seed-s3-policy-as-printed.json"), "utf8");
    assert.throws(
      () => loadPolicy(text, { name: "seed-s3-policy-as-printed.json" }),
      /is not valid JSON: expected ',' or ']' after an array element at line 15, column 9/,
    );
  });
});

describe("actions and resources", () => {
  it("match actions case-insensitively, with * and ? wildcards", () => {
    const doc = policy([{ Effect: "Allow", Action: ["s3:GetBucket*", "kinesis:?utRecord"], Resource: "*" }]);
    assert.equal(decide([doc], "s3:GetBucketLocation", "*").decision, "allow");
    assert.equal(decide([doc], "S3:getbucketversioning", "*").decision, "allow");
    assert.equal(decide([doc], "s3:GetObject", "*").decision, "deny");
    assert.equal(decide([doc], "kinesis:PutRecord", "*").decision, "allow");
    assert.equal(decide([doc], "kinesis:PutRecords", "*").decision, "deny");
  });

  it("match ARNs case-sensitively, each part on its own, * spanning slashes in the resource", () => {
    const doc = policy([
      { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::lake/2021-*/my_file.csv" },
      {
        Effect: "Allow",
        Action: "timestream:Select",
        Resource: "arn:aws:timestream:*:000000000000:database/d?/table/*",
      },
    ]);
    assert.equal(decide([doc], "s3:GetObject", "arn:aws:s3:::lake/2021-09/22/my_file.csv").decision, "allow");
    assert.equal(decide([doc], "s3:GetObject", "arn:aws:s3:::Lake/2021-09/my_file.csv").decision, "deny");
    const names = resourceArns({ account: "000000000000", region: "ap-south-1" });
    assert.equal(decide([doc], "timestream:Select", names.table("d1", "t")).decision, "allow");
    assert.equal(decide([doc], "timestream:Select", names.table("d12", "t")).decision, "deny");
    // A * in the region part does not reach into the account part.
    assert.equal(
      decide([doc], "timestream:Select", "arn:aws:timestream:x:y:000000000000:database/d1/table/t").decision,
      "deny",
    );
  });

  it("NotAction applies to every other action; NotResource to every other resource", () => {
    const doc = policy([
      { Effect: "Allow", NotAction: "timestream:WriteRecords", Resource: "*" },
      { Effect: "Deny", Action: "s3:*", NotResource: ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"] },
    ]);
    assert.equal(decide([doc], "timestream:Select", "*").decision, "allow");
    assert.equal(decide([doc], "timestream:WriteRecords", "*").decision, "deny");
    assert.equal(decide([doc], "s3:PutObject", "arn:aws:s3:::lake/a").decision, "allow");
    const elsewhere = decide([doc], "s3:PutObject", "arn:aws:s3:::elsewhere/a");
    assert.equal(elsewhere.decision, "deny");
    assert.equal(elsewhere.reason, "explicit-deny");
    assert.equal(elsewhere.statement?.index, 1);
  });

  it("an explicit deny wins over any allow, in any policy, in any order", () => {
    const allow = policy([{ Sid: "All", Effect: "Allow", Action: "*", Resource: "*" }], "allow.json");
    const deny = policy(
      [{ Sid: "NoWrites", Effect: "Deny", Action: "timestream:WriteRecords", Resource: "*" }],
      "deny.json",
    );
    for (const order of [
      [allow, deny],
      [deny, allow],
    ]) {
      const d = decide(order, "timestream:WriteRecords", seed.table("db", "t"));
      assert.equal(d.decision, "deny");
      assert.equal(d.reason, "explicit-deny");
      assert.deepEqual(d.statement, { policy: "deny.json", index: 0, sid: "NoWrites", effect: "Deny" });
      assert.match(
        d.message,
        /statement 0 \(NoWrites\) of deny.json denies timestream:WriteRecords .*explicit deny wins/,
      );
    }
    assert.equal(decide([allow, deny], "timestream:Select", seed.table("db", "t")).statement?.sid, "All");
  });

  it("no policy at all is an implicit deny", () => {
    const d = decide([], "s3:GetObject", "arn:aws:s3:::lake/a");
    assert.equal(d.decision, "deny");
    assert.equal(d.reason, "implicit-deny");
  });
});

describe("condition operators", () => {
  /** Allow s3:GetObject on * under one Condition block; answer whether a request context is allowed. */
  const allowedWith = (condition: Record<string, unknown>, context: Record<string, string | string[]>) =>
    decide(
      [policy([{ Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: condition }])],
      "s3:GetObject",
      "*",
      context,
    ).decision === "allow";

  it("StringEquals, StringNotEquals, their IgnoreCase forms; several values are OR'ed", () => {
    const equals = { StringEquals: { "aws:username": ["alice", "bob"] } };
    assert.ok(allowedWith(equals, { "aws:username": "bob" }));
    assert.ok(!allowedWith(equals, { "aws:username": "Bob" }));
    assert.ok(!allowedWith(equals, {}), "a missing key makes a positive operator false");
    const notEquals = { StringNotEquals: { "aws:username": ["alice", "bob"] } };
    assert.ok(allowedWith(notEquals, { "aws:username": "carol" }));
    assert.ok(!allowedWith(notEquals, { "aws:username": "alice" }), "negated values are NOR'ed");
    assert.ok(allowedWith(notEquals, {}), "a missing key makes a negated operator true");
    assert.ok(
      allowedWith({ StringEqualsIgnoreCase: { "aws:username": "ALICE" } }, { "aws:username": "alice" }),
    );
    assert.ok(
      !allowedWith({ StringNotEqualsIgnoreCase: { "aws:username": "ALICE" } }, { "aws:username": "alice" }),
    );
  });

  it("StringLike and StringNotLike with wildcards; condition key names are case-insensitive", () => {
    assert.ok(allowedWith({ StringLike: { "s3:prefix": "2021-09-*" } }, { "S3:Prefix": "2021-09-22-13/" }));
    assert.ok(!allowedWith({ StringLike: { "s3:prefix": "2021-09-?" } }, { "s3:prefix": "2021-09-22" }));
    assert.ok(allowedWith({ StringNotLike: { "s3:prefix": "secret/*" } }, { "s3:prefix": "public/a" }));
    assert.ok(!allowedWith({ StringNotLike: { "s3:prefix": "secret/*" } }, { "s3:prefix": "secret/a" }));
  });

  it("...IfExists is true when the key is missing, and checks it when present", () => {
    const c = { StringEqualsIfExists: { "aws:username": "alice" } };
    assert.ok(allowedWith(c, {}));
    assert.ok(allowedWith(c, { "aws:username": "alice" }));
    assert.ok(!allowedWith(c, { "aws:username": "bob" }));
  });

  it("Bool on aws:SecureTransport", () => {
    const c = { Bool: { "aws:SecureTransport": "true" } };
    assert.ok(allowedWith(c, { "aws:SecureTransport": "true" }));
    assert.ok(allowedWith({ Bool: { "aws:SecureTransport": true } }, { "aws:SecureTransport": "TRUE" }));
    assert.ok(!allowedWith(c, { "aws:SecureTransport": "false" }));
    assert.ok(!allowedWith(c, {}));
  });

  it("IpAddress and NotIpAddress with v4 and v6 CIDR blocks and single addresses", () => {
    const c = { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"] } };
    assert.ok(allowedWith(c, { "aws:SourceIp": "10.200.3.4" }));
    assert.ok(allowedWith(c, { "aws:SourceIp": "2001:db8:1::5" }));
    assert.ok(allowedWith(c, { "aws:SourceIp": "192.0.2.7" }));
    assert.ok(!allowedWith(c, { "aws:SourceIp": "192.0.2.8" }));
    assert.ok(!allowedWith(c, { "aws:SourceIp": "11.0.0.1" }));
    assert.ok(!allowedWith(c, { "aws:SourceIp": "2001:db9::1" }));
    assert.ok(!allowedWith(c, { "aws:SourceIp": "not-an-ip" }));
    const not = { NotIpAddress: { "aws:SourceIp": "127.0.0.0/8" } };
    assert.ok(allowedWith(not, { "aws:SourceIp": "192.168.1.1" }));
    assert.ok(!allowedWith(not, { "aws:SourceIp": "127.0.0.1" }));
    assert.ok(
      allowedWith(
        { IpAddress: { "aws:SourceIp": "::ffff:10.0.0.0/104" } },
        { "aws:SourceIp": "::ffff:10.1.2.3" },
      ),
    );
  });

  it("DateLessThan, DateGreaterThan and their Equals forms, in ISO 8601 or epoch seconds", () => {
    const window = {
      DateGreaterThanEquals: { "aws:CurrentTime": "2021-09-22T00:00:00Z" },
      DateLessThan: { "aws:CurrentTime": "2021-09-23" },
    };
    assert.ok(allowedWith(window, { "aws:CurrentTime": "2021-09-22T13:00:00Z" }));
    assert.ok(allowedWith(window, { "aws:CurrentTime": "2021-09-22T00:00:00Z" }));
    assert.ok(!allowedWith(window, { "aws:CurrentTime": "2021-09-23T00:00:00Z" }), "operators are AND'ed");
    assert.ok(!allowedWith(window, { "aws:CurrentTime": "2021-09-21T23:59:59Z" }));
    assert.ok(
      allowedWith({ DateGreaterThan: { "aws:EpochTime": "1632268800" } }, { "aws:EpochTime": "1632268801" }),
    );
    assert.ok(
      allowedWith({ DateLessThanEquals: { "aws:EpochTime": 1632268800 } }, { "aws:EpochTime": "1632268800" }),
    );
    assert.ok(
      allowedWith(
        { DateEquals: { "aws:CurrentTime": "2021-09-22T00:00:00Z" } },
        { "aws:CurrentTime": "1632268800" },
      ),
    );
    assert.ok(
      !allowedWith(
        { DateNotEquals: { "aws:CurrentTime": "2021-09-22T00:00:00Z" } },
        { "aws:CurrentTime": "1632268800" },
      ),
    );
  });

  it("Numeric operators", () => {
    assert.ok(allowedWith({ NumericLessThanEquals: { "s3:max-keys": "10" } }, { "s3:max-keys": "10" }));
    assert.ok(!allowedWith({ NumericLessThan: { "s3:max-keys": "10" } }, { "s3:max-keys": "10" }));
    assert.ok(allowedWith({ NumericGreaterThan: { "s3:max-keys": 5 } }, { "s3:max-keys": "6" }));
    assert.ok(allowedWith({ NumericGreaterThanEquals: { "s3:max-keys": "5" } }, { "s3:max-keys": "5" }));
    assert.ok(allowedWith({ NumericEquals: { "s3:max-keys": "5" } }, { "s3:max-keys": "5.0" }));
    assert.ok(allowedWith({ NumericNotEquals: { "s3:max-keys": "5" } }, { "s3:max-keys": "6" }));
    assert.ok(!allowedWith({ NumericEquals: { "s3:max-keys": "5" } }, { "s3:max-keys": "five" }));
  });

  it("ArnLike and ArnNotLike, Null, and ForAnyValue / ForAllValues over several request values", () => {
    assert.ok(
      allowedWith(
        { ArnLike: { "aws:SourceArn": "arn:aws:kinesis:*:*:stream/airflow-*" } },
        { "aws:SourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/airflow-timestream" },
      ),
    );
    assert.ok(
      !allowedWith(
        { ArnNotLike: { "aws:SourceArn": "arn:aws:kinesis:*:*:stream/*" } },
        { "aws:SourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/s" },
      ),
    );
    assert.ok(allowedWith({ Null: { "aws:TokenIssueTime": "true" } }, {}));
    assert.ok(
      !allowedWith({ Null: { "aws:TokenIssueTime": "true" } }, { "aws:TokenIssueTime": "2021-09-22" }),
    );
    assert.ok(
      allowedWith({ Null: { "aws:TokenIssueTime": "false" } }, { "aws:TokenIssueTime": "2021-09-22" }),
    );
    const any = { "ForAnyValue:StringEquals": { "aws:TagKeys": ["team", "owner"] } };
    assert.ok(allowedWith(any, { "aws:TagKeys": ["cost", "team"] }));
    assert.ok(!allowedWith(any, { "aws:TagKeys": ["cost"] }));
    assert.ok(!allowedWith(any, {}));
    const all = { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "owner"] } };
    assert.ok(allowedWith(all, { "aws:TagKeys": ["owner", "team"] }));
    assert.ok(!allowedWith(all, { "aws:TagKeys": ["owner", "cost"] }));
    assert.ok(allowedWith(all, {}), "ForAllValues over no values is true");
  });

  it("several keys of one operator are AND'ed; a denial names the condition that failed", () => {
    const c = { StringEquals: { "aws:username": "alice", "aws:PrincipalTag/team": "data" } };
    assert.ok(allowedWith(c, { "aws:username": "alice", "aws:PrincipalTag/team": "data" }));
    assert.ok(!allowedWith(c, { "aws:username": "alice" }));
    const d = decide(
      [
        policy([
          {
            Sid: "OnlyTls",
            Effect: "Allow",
            Action: "s3:PutObject",
            Resource: "*",
            Condition: { Bool: { "aws:SecureTransport": "true" } },
          },
        ]),
      ],
      "s3:PutObject",
      "arn:aws:s3:::lake/a",
    );
    assert.equal(d.decision, "deny");
    assert.match(
      d.message,
      /statement 0 \(OnlyTls\) of test.json allows the action but its condition Bool on aws:SecureTransport \(true\) is not met: the request has no aws:SecureTransport/,
    );
  });

  it("in a large policy, a denial names the statement for that resource whose condition failed", () => {
    const statements = Array.from({ length: 200 }, (_, i) => ({
      Sid: `Read${i}`,
      Effect: "Allow",
      Action: "timestream:Select",
      Resource: `arn:aws:timestream:us-east-1:000000000000:database/db/table/t-${i}`,
      ...(i === 150 ? { Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } } : {}),
    }));
    const set = new PolicySet([policy(statements, "big.json")]).prepare(["timestream:Select"]);
    const arn = "arn:aws:timestream:us-east-1:000000000000:database/db/table/t-150";
    const inside = set.evaluate({
      action: "timestream:Select",
      resource: arn,
      context: requestContext({ "aws:SourceIp": "10.1.1.1" }),
    });
    assert.equal(inside.statement?.sid, "Read150");
    const outside = set.evaluate({
      action: "timestream:Select",
      resource: arn,
      context: requestContext({ "aws:SourceIp": "192.0.2.1" }),
    });
    assert.equal(outside.decision, "deny");
    assert.equal(outside.nearMisses?.[0]?.statement.sid, "Read150");
    assert.match(
      outside.message,
      /statement 150 \(Read150\) of big.json allows the action but its condition IpAddress on aws:SourceIp \(10.0.0.0\/8\) is not met/,
    );
    assert.equal(
      set.evaluate({ action: "timestream:Select", resource: arn.replace("t-150", "t-7") }).statement?.sid,
      "Read7",
    );
    assert.equal(
      set.evaluate({ action: "timestream:Select", resource: arn.replace("t-150", "t-1500") }).decision,
      "deny",
    );
  });

  it("a Deny with a condition applies only when the condition holds", () => {
    const doc = policy([
      { Effect: "Allow", Action: "s3:*", Resource: "*" },
      {
        Effect: "Deny",
        Action: "s3:*",
        Resource: "*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    assert.equal(
      decide([doc], "s3:GetObject", "*", { "aws:SecureTransport": "false" }).reason,
      "explicit-deny",
    );
    assert.equal(decide([doc], "s3:GetObject", "*", { "aws:SecureTransport": "true" }).decision, "allow");
  });
});
