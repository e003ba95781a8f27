/**
 * `hourglass stack` through the real CLI: examples/stack.yaml planned, applied, applied again,
 * drifted and destroyed against a real `hourglass up`; a failure half-way and its repair, the
 * dependency order and each bad input on a state folder with no server.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ListDatabasesCommand, TimestreamWriteClient } from "@aws-sdk/client-timestream-write";
import { readAccessModel } from "../../src/stack/index.js";
import { BIN, runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

const example = path.resolve("examples", "stack.yaml");

interface PlanJson {
  items: { id: string; action: string; notes: string[]; changes: { field: string; drifted: boolean }[] }[];
}

function stackCli(dir: string) {
  return (args: string[], input?: string) =>
    runCli(["--state-dir", dir, ...args], input === undefined ? {} : { input });
}

function writeStack(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("hourglass stack against hourglass up", () => {
  const dir = tempDir("hg-stack-up-");
  const cli = stackCli(dir);
  let server: ChildProcess | null = null;
  let serverErr = "";

  before(async () => {
    const child = spawn(
      process.execPath,
      [BIN, "--state-dir", dir, "up", "--port", "0", "--workers", "1", "--dags", path.join(dir, "dags")],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        serverErr += d.toString();
        if (serverErr.includes("press Ctrl+C to stop")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`hourglass up exited ${code}: ${serverErr}`)));
    });
  });
  after(async () => {
    if (server) {
      const exited = once(server, "exit");
      server.kill("SIGINT");
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("plan, apply, apply again (no change), drift, destroy refused with data, destroy --force", async () => {
    const planned = await cli(["stack", "plan", example]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /\+ {3}database airflow-db/);
    assert.match(planned.stdout, /12 to create, 0 to change/);
    assert.ok(
      planned.stdout.indexOf("database airflow-db") <
        planned.stdout.indexOf("table airflow-db.airflow-table"),
    );

    const applied = await cli(["stack", "apply", example]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /12 done/);
    // Each principal got an access key (printed once), and the server's AWS endpoints take it.
    const issued = [...applied.stdout.matchAll(/access key (\S+), secret (\S+) \(shown only now/g)].map(
      (m) => ({ accessKeyId: m[1]!, secretAccessKey: m[2]! }),
    );
    assert.equal(issued.length, 2, applied.stdout);
    const listed = JSON.parse((await cli(["keys", "list", "--json"])).stdout) as Array<{
      accessKeyId: string;
      revokedAt?: string;
    }>;
    for (const key of issued) {
      assert.ok(listed.some((k) => k.accessKeyId === key.accessKeyId && k.revokedAt === undefined));
    }
    // The services were reached over the server's REST API: it has the resources.
    const { url } = JSON.parse(fs.readFileSync(path.join(dir, "server.json"), "utf8")) as { url: string };
    const signed = new TimestreamWriteClient({
      region: "us-east-1",
      endpoint: url,
      credentials: issued[0]!,
      maxAttempts: 1,
    });
    const databases = await signed.send(new ListDatabasesCommand({}));
    assert.deepEqual(
      databases.Databases?.map((d) => d.DatabaseName),
      ["airflow-db"],
    );
    const table = (await (
      await fetch(new URL("/api/v1/databases/airflow-db/tables/airflow-table", url))
    ).json()) as {
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: number;
        MagneticStoreRetentionPeriodInDays: number;
      };
    };
    assert.equal(table.RetentionProperties.MemoryStoreRetentionPeriodInHours, 24);
    assert.equal(table.RetentionProperties.MagneticStoreRetentionPeriodInDays, 1);
    const connector = (await (await fetch(new URL("/api/v1/connectors/airflow-timestream", url))).json()) as {
      stream: string;
    };
    assert.equal(connector.stream, "airflow-timestream");
    const record = JSON.parse(fs.readFileSync(path.join(dir, "stacks", "airflow-demo.json"), "utf8")) as {
      resources: { id: string }[];
    };
    assert.equal(record.resources.length, 12);
    assert.equal(record.resources.at(-1)?.id, "dag/timestream-airflow-demo");

    const again = await cli(["stack", "apply", example]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /no changes: the resources match the file \(12 unchanged\)/);

    // Drift: the table's retention changed by hand shows in the plan, and apply puts it back.
    const changed = await cli(["table", "update", "airflow-db", "airflow-table", "--memory-hours", "12"]);
    assert.equal(changed.code, 0, changed.stderr);
    const drift = await cli(["stack", "plan", example]);
    assert.match(drift.stdout, /memoryHours: 12 -> 24 {3}\(changed outside the stack; last applied 24\)/);
    const driftJson = JSON.parse(
      (await cli(["stack", "plan", example, "--format", "json"])).stdout,
    ) as PlanJson;
    const tableItem = driftJson.items.find((i) => i.id === "table/airflow-db/airflow-table")!;
    assert.equal(tableItem.action, "update");
    assert.deepEqual(
      tableItem.changes.map((c) => [c.field, c.drifted]),
      [["memoryHours", true]],
    );
    const repaired = await cli(["stack", "apply", example]);
    assert.match(repaired.stdout, /succeeded ~ {3}table airflow-db\.airflow-table/);
    assert.match((await cli(["stack", "plan", example])).stdout, /no changes/);

    // A row in the table: destroy refuses, changing nothing, until --force.
    const row = `[{"Dimensions":[{"Name":"host","Value":"a"}],"MeasureName":"cpu","MeasureValue":"1.5","Time":"${Date.now()}"}]`;
    assert.equal((await cli(["write", "airflow-db", "airflow-table"], row)).code, 0);
    const refused = await cli(["stack", "destroy", example]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /destroy refused, nothing was changed: table\/airflow-db\/airflow-table: holds data/,
    );
    assert.equal((await cli(["db", "describe", "airflow-db"])).code, 0);
    const destroyed = await cli(["stack", "destroy", example, "--force"]);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    const lines = destroyed.stdout.split("\n");
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    assert.ok(at("connector airflow-timestream") < at("stream airflow-timestream"));
    assert.ok(at("table airflow-db.airflow-table") < at("database airflow-db"));
    assert.equal((await cli(["db", "describe", "airflow-db"])).code, 2);
    assert.equal(fs.existsSync(path.join(dir, "stacks", "airflow-demo.json")), false);
    // Destroy revokes the principals' keys: the server refuses them from the next request on.
    await assert.rejects(signed.send(new ListDatabasesCommand({})), /revoked|not one this server|invalid/i);
  });
});

describe("hourglass stack on a state folder (no server)", () => {
  const dir = tempDir("hg-stack-offline-");
  const cli = stackCli(dir);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a failure half-way reports each resource, and a new apply finishes the job", async () => {
    const text = (bucket: string) => `stack: halfway
resources:
  databases:
    - name: half-db
  tables:
    - database: half-db
      name: metrics
  buckets:
    - name: ${bucket}
  streams:
    - name: half-stream
      shards: 1
`;
    const bad = writeStack(dir, "halfway.yaml", text("Bad_Bucket"));
    const failed = await cli(["stack", "apply", bad]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /succeeded \+ {3}database half-db/);
    assert.match(failed.stdout, /succeeded \+ {3}table half-db\.metrics/);
    assert.match(failed.stdout, /failed {4}\+ {3}bucket Bad_Bucket: .+/);
    assert.match(failed.stdout, /not-run {3}\+ {3}stream half-stream/);
    assert.match(failed.stdout, /2 done, 1 failed, 1 not run/);

    const good = writeStack(dir, "halfway.yaml", text("half-bucket"));
    const plan = JSON.parse((await cli(["stack", "plan", good, "--format", "json"])).stdout) as PlanJson;
    assert.deepEqual(
      plan.items.map((i) => [i.id, i.action]),
      [
        ["database/half-db", "none"],
        ["table/half-db/metrics", "none"],
        ["bucket/half-bucket", "create"],
        ["stream/half-stream", "create"],
      ],
    );
    const finished = await cli(["stack", "apply", good]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stdout, /2 done, 2 unchanged/);
    const destroyed = await cli(["stack", "destroy", "halfway"]);
    assert.equal(destroyed.code, 0, destroyed.stderr);
  });

  it("orders by references, not by the file: a policy after what its ARNs name, dependsOn honoured", async () => {
    const file = writeStack(
      dir,
      "order.yaml",
      `stack: order
account: "704533066374"
region: eu-west-1
resources:
  databases:
    - name: order-db
      dependsOn: [bucket/order-bucket]
  tables:
    - database: order-db
      name: tbl
  buckets:
    - name: order-bucket
  policies:
    - name: read-t
      document:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: timestream:Select
            Resource: arn:aws:timestream:eu-west-1:704533066374:database/order-db/table/tbl
  roles:
    - name: reader
      policies: [read-t]
  dags:
    - dag: some-dag
      role: reader
`,
    );
    const plan = JSON.parse((await cli(["stack", "plan", file, "--format", "json"])).stdout) as PlanJson;
    assert.deepEqual(
      plan.items.map((i) => i.id),
      [
        "bucket/order-bucket",
        "database/order-db",
        "table/order-db/tbl",
        "policy/read-t",
        "role/reader",
        "dag/some-dag",
      ],
    );

    // Applied, the policies, roles and DAG roles are what the policy engine reads.
    const applied = await cli(["stack", "apply", file]);
    assert.equal(applied.code, 0, applied.stderr);
    const model = readAccessModel(dir);
    assert.deepEqual(
      model.policies.map((p) => [p.name, p.arn]),
      [["read-t", "arn:aws:iam::704533066374:policy/read-t"]],
    );
    assert.deepEqual(
      model.roles.map((r) => [r.name, r.policies]),
      [["reader", ["read-t"]]],
    );
    assert.deepEqual(model.dagRoles, [{ dag: "some-dag", role: "reader", stack: "order" }]);
    const listed = await cli(["stack", "list"]);
    assert.match(listed.stdout, /order\s+6\s+704533066374\s+eu-west-1/);
    assert.equal((await cli(["stack", "destroy", file])).code, 0);
  });

  it("bad input: invalid YAML, a schema error with its line, an unknown reference, a cycle", async () => {
    const invalid = await cli([
      "stack",
      "plan",
      writeStack(dir, "invalid.yaml", "stack: x\nresources: [\n  databases"),
    ]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /invalid\.yaml has a problem.*\n {2}line \d+: invalid YAML/);

    const schema = await cli([
      "stack",
      "plan",
      writeStack(
        dir,
        "schema.yaml",
        `stack: x
resources:
  databases:
    - name: d
  tables:
    - database: d
      name: a
    - database: d
      name: b
      retention:
        memoryHours: lots
`,
      ),
    ]);
    assert.equal(schema.code, 2);
    assert.match(
      schema.stderr,
      /resources\.tables\[1\]\.retention\.memoryHours \(line 11\): expected a number of hours/,
    );

    const unknown = await cli([
      "stack",
      "plan",
      writeStack(
        dir,
        "unknown.yaml",
        "stack: x\nresources:\n  tables:\n    - database: nowhere\n      name: t\n",
      ),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /resources\.tables\[0\]\.database \(line 4\): no database named nowhere in this file: declare it under resources\.databases/,
    );

    const cycle = await cli([
      "stack",
      "plan",
      writeStack(
        dir,
        "cycle.yaml",
        "stack: x\nresources:\n  databases:\n    - name: d\n      dependsOn: [table/d/t]\n  tables:\n    - database: d\n      name: t\n",
      ),
    ]);
    assert.equal(cycle.code, 2);
    assert.match(cycle.stderr, /dependency cycle: database\/d → table\/d\/t → database\/d/);
    assert.match(
      cycle.stderr,
      /database\/d refers to table\/d\/t at resources\.databases\[0\]\.dependsOn\[0\] \(line 5\)/,
    );
    assert.equal(fs.existsSync(path.join(dir, "stacks", "x.json")), false);

    const missing = await cli(["stack", "plan", path.join(dir, "nowhere.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the stack file .*nowhere\.yaml: ENOENT/);

    const twiceAndUnknown = await cli([
      "stack",
      "plan",
      writeStack(
        dir,
        "twice.yaml",
        "stack: x\nresources:\n  buckets:\n    - name: b1\n    - name: b1\n  queues:\n    - name: q\n",
      ),
    ]);
    assert.equal(twiceAndUnknown.code, 2);
    assert.match(twiceAndUnknown.stderr, /resources \(line 3\): unknown field "queues"/);

    const twice = await cli([
      "stack",
      "plan",
      writeStack(dir, "twice.yaml", "stack: x\nresources:\n  buckets:\n    - name: b1\n    - name: b1\n"),
    ]);
    assert.match(
      twice.stderr,
      /resources\.buckets\[1\] \(line 5\): bucket b1 is declared twice \(first at resources\.buckets\[0\] \(line 4\)\)/,
    );

    const policy = await cli([
      "stack",
      "plan",
      writeStack(
        dir,
        "policy.yaml",
        'stack: x\nresources:\n  policies:\n    - name: p\n      document:\n        Version: 2012-10-17\n        Statement:\n          - Effect: Permit\n            Resource: "*"\n          - Effect: Allow\n            Resource: "*"\n',
      ),
    ]);
    assert.equal(policy.code, 2);
    assert.match(
      policy.stderr,
      /resources\.policies\[0\]\.document\.Statement\[0\]\.Effect \(line 8\): expected "Allow" or "Deny"/,
    );
    assert.match(
      policy.stderr,
      /resources\.policies\[0\]\.document\.Statement\[1\] \(line 10\): a statement needs exactly one of Action and NotAction/,
    );
  });

  it("a resource that exists outside the stack is refused, and taken over with --adopt", async () => {
    assert.equal((await cli(["db", "create", "handmade"])).code, 0);
    const file = writeStack(
      dir,
      "adopt.yaml",
      "stack: adopt\nresources:\n  databases:\n    - name: handmade\n  buckets:\n    - name: adopt-bucket\n",
    );
    const plan = await cli(["stack", "plan", file]);
    assert.match(
      plan.stdout,
      /! {3}conflict: database handmade\n {8}# exists outside the stack: apply with --adopt/,
    );
    const refused = await cli(["stack", "apply", file]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /apply refused, nothing was changed: database\/handmade: exists outside the stack/,
    );
    assert.equal(fs.existsSync(path.join(dir, "stacks", "adopt.json")), false);
    assert.doesNotMatch((await cli(["lake", "ls"])).stdout, /adopt-bucket/);

    const adopted = await cli(["stack", "apply", file, "--adopt"]);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.match(adopted.stdout, /succeeded <= {2}database handmade/);
    const record = JSON.parse(fs.readFileSync(path.join(dir, "stacks", "adopt.json"), "utf8")) as {
      resources: { id: string; adopted: boolean }[];
    };
    assert.deepEqual(
      record.resources.map((r) => [r.id, r.adopted]),
      [
        ["database/handmade", true],
        ["bucket/adopt-bucket", false],
      ],
    );
    // Another stack cannot take what this one owns, even with --adopt.
    const other = writeStack(
      dir,
      "other.yaml",
      "stack: other\nresources:\n  databases:\n    - name: handmade\n",
    );
    const taken = await cli(["stack", "apply", other, "--adopt"]);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /stack adopt owns it/);
  });

  it("a resource deleted by hand is made again; a stream's shards cannot change in place; destroy --dry-run", async () => {
    const text = (shards: number) =>
      `stack: repair\nresources:\n  buckets:\n    - name: repair-bucket\n  streams:\n    - name: repair-stream\n      shards: ${shards}\n`;
    const file = writeStack(dir, "repair.yaml", text(1));
    const applied = JSON.parse((await cli(["stack", "apply", file, "--format", "json"])).stdout) as {
      failed: boolean;
      results: { id: string; status: string }[];
    };
    assert.equal(applied.failed, false);
    assert.deepEqual(
      applied.results.map((r) => [r.id, r.status]),
      [
        ["bucket/repair-bucket", "succeeded"],
        ["stream/repair-stream", "succeeded"],
      ],
    );
    assert.equal((await cli(["lake", "rb", "s3://repair-bucket"])).code, 0);
    const plan = await cli(["stack", "plan", file]);
    assert.match(plan.stdout, /\+ {3}bucket repair-bucket\n {8}# missing: deleted outside the stack/);
    assert.match((await cli(["stack", "apply", file])).stdout, /1 done, 1 unchanged/);

    const reshard = writeStack(dir, "repair.yaml", text(2));
    const refused = await cli(["stack", "apply", reshard]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /stream\/repair-stream: a stream's shards cannot change in place/);

    const dry = await cli(["stack", "destroy", "repair", "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /- {3}stream repair-stream\n {2}- {3}bucket repair-bucket\n2 to delete/);
    assert.ok(fs.existsSync(path.join(dir, "stacks", "repair.json")));
    assert.equal((await cli(["stack", "destroy", "repair"])).code, 0);
    const gone = await cli(["stack", "destroy", "repair"]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no stack named repair/);
  });

  it("a connector whose definition changes is replaced (deleted and created again)", async () => {
    const text = (mapping: string) => `stack: conn
resources:
  databases:
    - name: conn-db
  tables:
    - database: conn-db
      name: conn-table
  streams:
    - name: conn-stream
      shards: 1
  connectors:
    - name: conn
      stream: conn-stream
      database: conn-db
      table: conn-table
      mapping: ${mapping}
`;
    const file = writeStack(dir, "conn.yaml", text("single"));
    const applied = await cli(["stack", "apply", file]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /4 done/);
    writeStack(dir, "conn.yaml", text("flat"));
    const plan = await cli(["stack", "plan", file]);
    assert.match(
      plan.stdout,
      /-\/\+ connector conn\n {8}mapping: single -> flat\n {8}# a connector cannot change in place/,
    );
    const replaced = await cli(["stack", "apply", file]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /succeeded -\/\+ connector conn/);
    const described = await cli(["connector", "describe", "conn", "--json"]);
    assert.equal((JSON.parse(described.stdout) as { mapping: string }).mapping, "flat");
    assert.match((await cli(["stack", "plan", file])).stdout, /no changes/);
    assert.equal((await cli(["stack", "destroy", "conn"])).code, 0);
  });

  it("--help on each command", async () => {
    for (const command of ["plan", "apply", "destroy"]) {
      const help = await cli(["stack", command, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--format <format>/);
    }
  });
});
