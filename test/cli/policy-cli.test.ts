/**
 * `hourglass policy simulate | validate`, spawned as a user runs them, on the seed's two policies
 * (test/access/fixtures) and on bad input.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "access", "fixtures");
const timestreamPolicy = path.join(fixtures, "seed-timestream-policy.json");
const s3Policy = path.join(fixtures, "seed-s3-policy.json");
const s3AsPrinted = path.join(fixtures, "seed-s3-policy-as-printed.json");
const table = "arn:aws:timestream:eu-west-1:704533066374:database/airflow-db/table/airflow-table";

describe("hourglass policy", () => {
  // A folder of its own: no hourglass.yaml from the repository's folder changes the account.
  const cwd = tempDir("hg-policy-cli-");
  after(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(["policy", ...args], { cwd, env });

  it("has --help for the group and each command", async () => {
    const group = await cli(["--help"]);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /simulate/);
    assert.match(group.stdout, /validate/);
    const simulate = await cli(["simulate", "--help"]);
    assert.equal(simulate.code, 0);
    assert.match(simulate.stdout, /--policy <file>/);
    assert.match(simulate.stdout, /Exit status: 0 when every request is allowed, 3 when one is denied/);
    const validate = await cli(["validate", "--help"]);
    assert.equal(validate.code, 0);
    assert.match(validate.stdout, /--format <format>/);
  });

  it("simulate: the seed DAG's query is allowed, naming the statement; a write is denied (exit 3)", async () => {
    const allowed = await cli([
      "simulate",
      "--policy",
      timestreamPolicy,
      "--policy",
      s3Policy,
      "--action",
      "timestream:Select",
      "--resource",
      table,
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^ALLOW {2}timestream:Select {2}arn:aws:timestream:eu-west-1/m);
    assert.match(allowed.stdout, /statement 0 of .*seed-timestream-policy.json allows timestream:Select/);
    const denied = await cli([
      "simulate",
      "--policy",
      timestreamPolicy,
      "--action",
      "timestream:WriteRecords",
      "--resource",
      table,
    ]);
    assert.equal(denied.code, 3);
    assert.match(denied.stdout, /^DENY {3}timestream:WriteRecords/m);
    assert.match(denied.stdout, /no statement allows timestream:WriteRecords .* \(implicit deny\)/);
  });

  it("simulate --format json: one result per action and resource, with the deciding statement", async () => {
    const out = await cli([
      "simulate",
      "--policy",
      s3Policy,
      "--action",
      "s3:PutObject",
      "--resource",
      "arn:aws:s3:::demo-airflow-ts-output/2021-09-22-13/my_file.csv",
      "--resource",
      "arn:aws:s3:::another-bucket/2021-09-22-13/my_file.csv",
      "--format",
      "json",
    ]);
    assert.equal(out.code, 3);
    const { results } = JSON.parse(out.stdout) as {
      results: { decision: string; reason: string; statement?: { index: number }; resource: string }[];
    };
    assert.deepEqual(
      results.map((r) => [r.decision, r.reason, r.statement?.index]),
      [
        ["allow", "allowed", 0],
        ["deny", "implicit-deny", undefined],
      ],
    );
  });

  it("simulate --context: condition keys of the request, several values for a repeated key", async () => {
    const policy = path.join(cwd, "tls-only.json");
    fs.writeFileSync(
      policy,
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: "*",
            Condition: { Bool: { "aws:SecureTransport": "true" } },
          },
          {
            Effect: "Deny",
            Action: "s3:*",
            Resource: "*",
            Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": "secret" } },
          },
        ],
      }),
    );
    const args = [
      "simulate",
      "--policy",
      policy,
      "--action",
      "s3:GetObject",
      "--resource",
      "arn:aws:s3:::lake/a",
    ];
    assert.equal((await cli([...args, "--context", "aws:SecureTransport=true"])).code, 0);
    const plain = await cli([...args, "--context", "aws:SecureTransport=false"]);
    assert.equal(plain.code, 3);
    assert.match(plain.stdout, /its condition Bool on aws:SecureTransport \(true\) is not met/);
    const tagged = await cli([
      ...args,
      "--context",
      "aws:SecureTransport=true",
      "--context",
      "aws:TagKeys=team",
      "--context",
      "aws:TagKeys=secret",
    ]);
    assert.equal(tagged.code, 3);
    assert.match(tagged.stdout, /statement 1 of .*tls-only.json denies s3:GetObject/);
    const bad = await cli([...args, "--context", "aws:SecureTransport"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /must be key=value, such as aws:SourceIp=10.0.0.1/);
  });

  it("simulate refuses a policy that is not valid, and a file that cannot be read (exit 2)", async () => {
    const broken = await cli([
      "simulate",
      "--policy",
      s3AsPrinted,
      "--action",
      "s3:PutObject",
      "--resource",
      "arn:aws:s3:::demo-airflow-ts-output/a",
    ]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /is not a valid policy \(1 error\)/);
    assert.match(
      broken.stderr,
      /is not valid JSON: expected ',' or ']' after an array element at line 15, column 9/,
    );
    const missing = await cli([
      "simulate",
      "--policy",
      path.join(cwd, "nope.json"),
      "--action",
      "s3:GetObject",
      "--resource",
      "*",
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the policy file .*nope.json/);
  });

  it("validate: file:line:column findings; the seed's ListTables, and its account until it is mapped", async () => {
    const out = await cli(["validate", timestreamPolicy, s3Policy]);
    assert.equal(out.code, 0, out.stdout);
    assert.match(
      out.stdout,
      /seed-timestream-policy.json:9:17: warning: Statement\[0\].Action\[2\]: statement 0: timestream:ListTables never applies/,
    );
    assert.match(
      out.stdout,
      /seed-timestream-policy.json:11:25: warning: Statement\[0\].Resource: .* names account 704533066374/,
    );
    assert.match(out.stdout, /seed-timestream-policy.json: valid \(0 errors, 2 warnings\)/);
    assert.match(out.stdout, /seed-s3-policy.json: valid \(0 errors, 0 warnings\)/);
    const mapped = await cli(["validate", timestreamPolicy], {
      HOURGLASS_ACCOUNT_ID: "704533066374",
      HOURGLASS_REGION: "eu-west-1",
    });
    assert.match(mapped.stdout, /valid \(0 errors, 1 warning\)/);
    fs.writeFileSync(path.join(cwd, "hourglass.yaml"), "accountId: '704533066374'\nregion: eu-west-1\n");
    try {
      assert.match((await cli(["validate", timestreamPolicy])).stdout, /valid \(0 errors, 1 warning\)/);
    } finally {
      fs.rmSync(path.join(cwd, "hourglass.yaml"));
    }
  });

  it("validate: an invalid file is exit 2; --format json lists each file's findings", async () => {
    const out = await cli(["validate", s3AsPrinted]);
    assert.equal(out.code, 2);
    assert.match(
      out.stdout,
      /seed-s3-policy-as-printed.json:15:9: error: \(document\): .* is not valid JSON/,
    );
    const json = await cli(["validate", s3Policy, s3AsPrinted, "--format", "json"]);
    assert.equal(json.code, 2);
    const { files } = JSON.parse(json.stdout) as {
      files: { file: string; valid: boolean; findings: { line: number }[] }[];
    };
    assert.deepEqual(
      files.map((f) => [path.basename(f.file), f.valid, f.findings.map((x) => x.line)]),
      [
        ["seed-s3-policy.json", true, []],
        ["seed-s3-policy-as-printed.json", false, [15]],
      ],
    );
    const badAccount = await cli(["validate", s3Policy], { HOURGLASS_ACCOUNT_ID: "123" });
    assert.equal(badAccount.code, 2);
    assert.match(badAccount.stderr, /accountId: 12 digits, as an AWS account id/);
  });
});
