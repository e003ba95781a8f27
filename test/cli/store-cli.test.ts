import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/main.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

describe("hourglass CLI: databases, tables, write, query", () => {
  let state: string;
  const cli = (args: string[], input?: string) => runCli(["--state-dir", state, ...args], { input });

  before(() => {
    state = tempDir("hg-cli-");
  });
  after(() => {
    fs.rmSync(state, { recursive: true, force: true });
  });

  it("has --help with a description on every command", async () => {
    const visit = (command: Command, trail: string[]): void => {
      for (const sub of command.commands) {
        const name = [...trail, sub.name()].join(" ");
        assert.ok(sub.description().length > 10, `'${name}' needs a description`);
        assert.match(sub.helpInformation(), /Usage: /, `'${name}' prints usage`);
        visit(sub, [...trail, sub.name()]);
      }
    };
    visit(await buildProgram(), []);
  });

  it("prints help for a command from the real binary", async () => {
    const result = await cli(["table", "create", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--memory-hours <n>/);
    assert.match(result.stdout, /--magnetic-writes/);
  });

  it("creates, lists, describes, updates and deletes databases and tables", async () => {
    assert.equal((await cli(["db", "create", "airflow-db"])).code, 0);
    const created = await cli([
      "table",
      "create",
      "airflow-db",
      "airflow-table",
      "--memory-hours",
      "24",
      "--magnetic-days",
      "1",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).RetentionProperties.MemoryStoreRetentionPeriodInHours, 24);
    const dbs = await cli(["db", "list"]);
    assert.match(dbs.stdout, /airflow-db\s+1/);
    const tables = await cli(["table", "list", "airflow-db", "--json"]);
    assert.deepEqual(
      JSON.parse(tables.stdout).map((t: { TableName: string }) => t.TableName),
      ["airflow-table"],
    );
    const updated = await cli([
      "table",
      "update",
      "airflow-db",
      "airflow-table",
      "--magnetic-writes",
      "true",
    ]);
    assert.equal(JSON.parse(updated.stdout).MagneticStoreWriteProperties.EnableMagneticStoreWrites, true);
    const refused = await cli(["db", "delete", "airflow-db"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /still has 1 table/);
  });

  it("writes records from a file and from standard input, and queries them in each format", async () => {
    const now = Date.now();
    const records = Array.from({ length: 150 }, (_, i) => ({
      Dimensions: [{ Name: "host", Value: `h-${i % 3}` }],
      MeasureName: "cpu",
      MeasureValue: String(i),
      Time: String(now - 60_000 + i),
    }));
    const file = path.join(state, "records.json");
    fs.writeFileSync(file, JSON.stringify({ Records: records.slice(0, 100) }));
    const fromFile = await cli(["write", "airflow-db", "airflow-table", "--file", file]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /ingested 100 of 100 records/);
    const fromStdin = await cli(["write", "airflow-db", "airflow-table"], JSON.stringify(records.slice(100)));
    assert.match(fromStdin.stdout, /ingested 50 of 50 records/);

    const sql = `SELECT host, count(*) AS n, max(measure_value::double) AS top FROM "airflow-db"."airflow-table" GROUP BY host ORDER BY host`;
    const csv = await cli(["query", sql, "--format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, "host,n,top\nh-0,50,147.0\nh-1,50,148.0\nh-2,50,149.0\n");
    const json = await cli(["query", sql, "--format", "json", "--max-rows", "1"]);
    assert.deepEqual(JSON.parse(json.stdout).rows, [
      { host: "h-0", n: 50, top: 147 },
      { host: "h-1", n: 50, top: 148 },
      { host: "h-2", n: 50, top: 149 },
    ]);
    const table = await cli(["query", sql]);
    assert.match(table.stdout, /^host\s+n\s+top\n-+\s+-+\s+-+\nh-0\s+50\s+147\.0/);
    assert.match(table.stderr, /\(3 rows\)/);
  });

  it("reports bad input clearly and writes nothing from a rejected record", async () => {
    const malformed = await cli(["write", "airflow-db", "airflow-table"], "{ not json");
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /standard input is not valid JSON/);

    const mixed = await cli(
      ["write", "airflow-db", "airflow-table"],
      JSON.stringify([
        {
          Dimensions: [{ Name: "host", Value: "bad" }],
          MeasureName: "cpu",
          MeasureValue: "x",
          Time: String(Date.now()),
        },
        {
          Dimensions: [{ Name: "host", Value: "good" }],
          MeasureName: "cpu",
          MeasureValue: "1",
          Time: String(Date.now()),
        },
      ]),
    );
    assert.equal(mixed.code, 1);
    assert.match(mixed.stdout, /ingested 1 of 2/);
    assert.match(mixed.stderr, /rejected record 0: MeasureValue 'x' is not a valid DOUBLE/);

    const syntax = await cli(["query", "SELECT FROM WHERE"]);
    assert.equal(syntax.code, 2);
    assert.match(syntax.stderr, /line 1, column \d+/);
    const unknown = await cli(["query", 'SELECT * FROM "airflow-db"."nope"']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /airflow-db\.nope/);
    const badFlag = await cli(["query", "SELECT 1", "--max-rows", "5000"]);
    assert.notEqual(badFlag.code, 0);
    assert.match(badFlag.stderr, /from 1 to 1000/);
  });
});
