/**
 * Policy checks: each bad input gives a finding with its JSON path, line and column and a message
 * that says what to do; a document with an error is refused by loadPolicy, warnings are kept.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkPolicyText, type Finding, loadPolicy } from "../../src/access/index.js";

const scope = { account: "000000000000", region: "us-east-1" };
const check = (text: string) => checkPolicyText(text, { name: "p.json", scope });
const errors = (text: string): Finding[] => check(text).findings.filter((f) => f.severity === "error");
const warnings = (text: string): Finding[] => check(text).findings.filter((f) => f.severity === "warning");
/** A document laid out one member a line, so that lines in assertions are easy to count. */
const doc = (statement: Record<string, unknown>, version: unknown = "2012-10-17") =>
  JSON.stringify({ Version: version, Statement: [statement] }, null, 2);

const onlyError = (text: string): Finding => {
  const found = errors(text);
  assert.equal(found.length, 1, `expected one error, got ${JSON.stringify(found, null, 2)}`);
  return found[0]!;
};

describe("policy validation: bad input, each with its place and a clear message", () => {
  it("invalid JSON: the line and column of the mistake", () => {
    const text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    { "Effect": "Allow", }\n  ]\n}';
    const f = onlyError(text);
    assert.equal(f.line, 4);
    assert.equal(f.column, 26);
    assert.match(
      f.message,
      /p.json is not valid JSON: expected a member name in double quotes at line 4, column 26/,
    );
    assert.match(onlyError("").message, /expected a value at line 1, column 1 \(found the end of the file\)/);
    assert.match(onlyError('{"Version": "2012-10-17"} x').message, /unexpected text after the end/);
    assert.match(
      onlyError('{"Version": "a", "Version": "b"}').message,
      /the member "Version" appears twice in the same object at line 1, column 18/,
    );
  });

  it("an unknown action, with the action it was probably meant to be", () => {
    const f = onlyError(doc({ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObjekt"], Resource: "*" }));
    assert.equal(f.path, "Statement[0].Action[1]");
    assert.equal(f.line, 8);
    assert.match(
      f.message,
      /unknown action 's3:PutObjekt' \(did you mean s3:PutObject\?\): AWS defines no such s3 action/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:Frobnicate*", Resource: "*" })).message,
      /matches no s3 action/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "GetObject", Resource: "*" })).message,
      /write service:Action/,
    );
  });

  it("a malformed ARN", () => {
    const f = onlyError(
      doc({ Effect: "Allow", Action: "s3:GetObject", Resource: ["arn:aws:s3:::ok/*", "arn:aws:s3:bucket"] }),
    );
    assert.equal(f.path, "Statement[0].Resource[1]");
    assert.match(f.message, /malformed ARN: 'arn:aws:s3:bucket' has 4 colon-separated parts; an ARN has six/);
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "bucket/key" })).message,
      /must start with "arn:"/,
    );
    assert.match(
      onlyError(
        doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:us-east-1:000000000000:b/k" }),
      ).message,
      /S3 bucket and object ARNs have no region or account/,
    );
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "timestream:Select",
          Resource: "arn:aws:timestream:us-east-1:000000000000:tables/t",
        }),
      ).message,
      /a timestream resource is database\/D or database\/D\/table\/T/,
    );
  });

  it("an unknown condition operator, and condition values that do not fit their operator", () => {
    const f = onlyError(
      doc({
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: "*",
        Condition: { stringEquals: { "aws:username": "a" } },
      }),
    );
    assert.equal(f.path, "Statement[0].Condition.stringEquals");
    assert.match(f.message, /unknown condition operator 'stringEquals' \(did you mean StringEquals\?\)/);
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { BinaryEquals: { k: "QQ==" } },
        }),
      ).message,
      /BinaryEquals is IAM's, but Hourglass does not evaluate it/,
    );
    const ip = onlyError(
      doc({
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: "*",
        Condition: { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "10.0.0.300"] } },
      }),
    );
    assert.equal(ip.path, "Statement[0].Condition.IpAddress.aws:SourceIp[1]");
    assert.match(ip.message, /'10.0.0.300' is not an IP address or CIDR block/);
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { DateLessThan: { "aws:CurrentTime": "tomorrow" } },
        }),
      ).message,
      /'tomorrow' is not a date: use ISO 8601/,
    );
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { Bool: { "aws:SecureTransport": "yes" } },
        }),
      ).message,
      /'yes' is not true or false/,
    );
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { NumericLessThan: { "s3:max-keys": "ten" } },
        }),
      ).message,
      /'ten' is not a number/,
    );
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { NullIfExists: { k: "true" } },
        }),
      ).message,
      /Null operator cannot take IfExists/,
    );
  });

  it("a wrong or missing Version", () => {
    const f = onlyError(doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }, "2024-01-01"));
    assert.equal(f.path, "Version");
    assert.equal(f.line, 2);
    assert.match(f.message, /Version '2024-01-01' is not a policy language version: use "2012-10-17"/);
    const text = JSON.stringify({ Statement: { Effect: "Allow", Action: "s3:GetObject", Resource: "*" } });
    assert.equal(errors(text).length, 0);
    assert.match(warnings(text)[0]!.message, /no Version: IAM then reads the policy as version 2008-10-17/);
  });

  it("statement elements: Effect, one of Action/NotAction and Resource/NotResource, members, Sids, Principal", () => {
    assert.match(
      onlyError(doc({ Effect: "allow", Action: "s3:GetObject", Resource: "*" })).message,
      /Statement\[0\].Effect must be "Allow" or "Deny"/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:GetObject", NotAction: "s3:PutObject", Resource: "*" }))
        .message,
      /exactly one of Action or NotAction/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:GetObject" })).message,
      /exactly one of Resource or NotResource/,
    );
    const member = onlyError(
      doc({ Effect: "Allow", Actions: "s3:GetObject", Action: "s3:GetObject", Resource: "*" }),
    );
    assert.equal(member.path, "Statement[0].Actions");
    assert.match(member.message, /unknown member "Actions"/);
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: [], Resource: "*" })).message,
      /must be a string or a non-empty list of strings/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:GetObject", Resource: "*" }))
        .message,
      /names a Principal/,
    );
    const twice = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Sid: "A", Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
        { Sid: "A", Effect: "Deny", Action: "s3:PutObject", Resource: "*" },
      ],
    });
    assert.match(onlyError(twice).message, /Sid 'A' is also statement 0's/);
    assert.match(
      onlyError('{"Version": "2012-10-17", "Statement": []}').message,
      /Statement is an empty list/,
    );
    assert.match(onlyError('{"Version": "2012-10-17"}').message, /Statement is missing/);
    assert.match(onlyError("[1, 2]").message, /a policy document must be a JSON object/);
  });

  it("statements that can never match", () => {
    const f = onlyError(
      doc({
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject"],
        Resource: "arn:aws:timestream:us-east-1:000000000000:database/db/table/t",
      }),
    );
    assert.match(
      f.message,
      /statement 0 can never match: none of its actions is checked against any of its resources/,
    );
    assert.match(f.message, /s3:GetObject is checked against arn:aws:s3:::BUCKET\/KEY/);
    // An object-only action on a bucket ARN, and an action without resource-level permissions on an ARN.
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::lake" })).message,
      /can never match/,
    );
    assert.match(
      onlyError(
        doc({
          Effect: "Deny",
          Action: "timestream:DescribeEndpoints",
          Resource: "arn:aws:timestream:*:*:database/*",
        }),
      ).message,
      /DescribeEndpoints is checked against \*/,
    );
    // Part of a statement that never applies is a warning: the seed's ListTables on a table ARN.
    const partly = warnings(
      doc({
        Effect: "Allow",
        Action: ["timestream:Select", "timestream:ListTables"],
        Resource: "arn:aws:timestream:us-east-1:000000000000:database/db/table/t*",
      }),
    );
    assert.equal(partly.length, 1);
    assert.equal(partly[0]!.path, "Statement[0].Action[1]");
    assert.match(
      partly[0]!.message,
      /timestream:ListTables never applies with these resources: timestream:ListTables is checked against arn:aws:timestream:REGION:ACCOUNT:database\/DATABASE/,
    );
  });

  it("warnings: another account or region, a service Hourglass does not serve, policy variables", () => {
    const other = warnings(
      doc({
        Effect: "Allow",
        Action: "timestream:Select",
        Resource: "arn:aws:timestream:eu-west-1:704533066374:database/d/table/t",
      }),
    );
    assert.match(
      other[0]!.message,
      /names account 704533066374 \(Hourglass's is 000000000000\) and region eu-west-1 \(Hourglass's is us-east-1\)/,
    );
    const logs = check(
      doc({ Effect: "Allow", Action: ["logs:CreateLogStream", "s3:GetObject"], Resource: "*" }),
    );
    assert.equal(logs.findings.filter((f) => f.severity === "error").length, 0);
    assert.match(
      logs.findings[0]!.message,
      /'logs:CreateLogStream' is an action of 'logs', a service Hourglass does not serve/,
    );
    const variables = warnings(
      doc({
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: "*",
        Condition: { StringEquals: { "aws:username": `${"$"}{aws:username}` } },
      }),
    );
    assert.match(variables[0]!.message, /policy variables .* are not substituted/);
  });

  it("more JSON and element mistakes: strings, escapes, partitions, services, condition shapes", () => {
    assert.match(
      onlyError('{"Version": "2012-10-17').message,
      /a string that is never closed at line 1, column 13/,
    );
    assert.match(onlyError('{"Version": "2012\\q"}').message, /an invalid escape in a string/);
    assert.match(onlyError('{"Version": "2012\t10"}').message, /a control character .* inside a string/);
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s?:GetObject", Resource: "*" })).message,
      /a wildcard in the service prefix is not allowed/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:amazon:s3:::b/k" })).message,
      /'amazon' is not a partition/,
    );
    assert.match(
      onlyError(
        doc({
          Effect: "Allow",
          Action: "kinesis:PutRecord",
          Resource: "arn:aws:kinesis:us-east-1:000000000000:streams/s",
        }),
      ).message,
      /a kinesis resource is stream\/S/,
    );
    assert.match(
      onlyError(
        doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: "x" } }),
      ).message,
      /Statement\[0\].Condition.StringEquals must be an object of condition keys and values/,
    );
    assert.match(
      onlyError(doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: ["x"] })).message,
      /must be an object of condition operators/,
    );
    // An ARN of a service Hourglass does not serve is a warning, not an error.
    const sqs = check(
      doc({
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: ["*", "arn:aws:sqs:us-east-1:000000000000:q"],
      }),
    );
    assert.equal(sqs.findings.filter((f) => f.severity === "error").length, 0);
    assert.match(sqs.findings[0]!.message, /a sqs ARN, a service Hourglass does not serve/);
  });

  it("loadPolicy refuses a document with errors, listing each with its path and line", () => {
    const text = doc({ Effect: "Allow", Action: "s3:PutObjekt", Resource: "arn:aws:s3:bucket" });
    assert.throws(
      () => loadPolicy(text, { name: "p.json" }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, "ValidationError");
        assert.match(error.message, /p.json is not a valid policy \(2 errors\)/);
        assert.match(
          error.message,
          /Statement\[0\].Action \(line 6, column 17\): unknown action 's3:PutObjekt'/,
        );
        assert.match(error.message, /Statement\[0\].Resource \(line 7, column 19\): malformed ARN/);
        return true;
      },
    );
    // A lone statement object (not a list) is a valid Statement, as in IAM.
    const single = loadPolicy(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: { Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
      }),
    );
    assert.equal(single.document.statements.length, 1);
  });
});
