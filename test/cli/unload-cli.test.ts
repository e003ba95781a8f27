/**
 * `hourglass query` with UNLOAD, from the real binary: on the state folder (no server), and through
 * a running server (--server). It prints the one result row; the files land in the lake.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { type S3TestServer, startS3TestServer } from "../api/s3-helpers.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

const UNLOAD = `UNLOAD (SELECT host, measure_value::double AS v FROM "cli-db"."cli-table" ORDER BY v) TO 's3://cli-out/run/' WITH (compression = 'NONE', include_header = 'true')`;

describe("hourglass query with UNLOAD", () => {
  let state: string;
  const cli = (args: string[], input?: string) => runCli(["--state-dir", state, ...args], { input });

  before(() => {
    state = tempDir("hg-unload-cli-");
  });
  after(() => {
    fs.rmSync(state, { recursive: true, force: true });
  });

  it("writes the files to the state folder's lake and prints rows, metadataFile and manifestFile", async () => {
    assert.equal((await cli(["db", "create", "cli-db"])).code, 0);
    assert.equal((await cli(["table", "create", "cli-db", "cli-table"])).code, 0);
    const now = Date.now();
    const records = Array.from({ length: 5 }, (_, i) => ({
      Dimensions: [{ Name: "host", Value: `h-${i}` }],
      MeasureName: "cpu",
      MeasureValue: String(i),
      Time: String(now - 60_000 + i),
    }));
    assert.equal((await cli(["write", "cli-db", "cli-table"], JSON.stringify(records))).code, 0);

    const missing = await cli(["query", UNLOAD]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /bucket 'cli-out' does not exist: create it first \(hourglass lake mb cli-out/,
    );

    assert.equal((await cli(["lake", "mb", "cli-out"])).code, 0);
    const table = await cli(["query", UNLOAD]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /rows\s+metadataFile\s+manifestFile/);
    assert.match(
      table.stdout,
      /5\s+s3:\/\/cli-out\/run\/AEB[\w-]+_metadata\.json\s+s3:\/\/cli-out\/run\/AEB[\w-]+_manifest\.json/,
    );
    assert.match(table.stderr, /\(1 row\)/);

    const json = await cli(["query", UNLOAD, "--format", "json"]);
    const row = JSON.parse(json.stdout).rows[0] as { rows: number; manifestFile: string };
    assert.equal(row.rows, 5);
    const manifest = JSON.parse((await cli(["lake", "cat", row.manifestFile])).stdout);
    assert.equal(manifest.result_files.length, 1);
    const csv = await cli(["lake", "cat", manifest.result_files[0].url]);
    assert.equal(csv.stdout, '"host",v\n"h-0",0.0\n"h-1",1.0\n"h-2",2.0\n"h-3",3.0\n"h-4",4.0\n');
  });

  describe("through a running server", () => {
    let server: S3TestServer;
    before(async () => {
      server = await startS3TestServer();
      await server.store.createDatabase("cli-db");
      await server.store.createTable({ DatabaseName: "cli-db", TableName: "cli-table" });
      await server.store.writeRecords({
        DatabaseName: "cli-db",
        TableName: "cli-table",
        Records: [
          {
            Dimensions: [{ Name: "host", Value: "h" }],
            MeasureName: "cpu",
            MeasureValue: "1",
            Time: String(server.clock.nowMs),
          },
        ],
      });
      await server.lake.createBucket("cli-out");
    });
    after(async () => {
      await server?.close();
    });

    it("prints the result row of an UNLOAD the server ran", async () => {
      const result = await runCli(["--server", server.server.url, "query", UNLOAD, "--format", "csv"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^rows,metadataFile,manifestFile\n1,s3:\/\/cli-out\/run\/AEB[\w-]+_metadata\.json,s3:\/\/cli-out\/run\/AEB[\w-]+_manifest\.json\n$/,
      );
      const keys = (await server.lake.listObjects("cli-out", { prefix: "run/results/" })).objects;
      assert.equal(keys.length, 1);
    });
  });
});
