import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ConflictException,
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteDatabaseCommand,
  DeleteTableCommand,
  DescribeDatabaseCommand,
  DescribeEndpointsCommand,
  DescribeTableCommand,
  ListDatabasesCommand,
  ListTablesCommand,
  ListTagsForResourceCommand,
  type _Record as Record_,
  RejectedRecordsException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  TagResourceCommand,
  TimestreamWriteClient,
  UntagResourceCommand,
  UpdateDatabaseCommand,
  UpdateTableCommand,
  ValidationException,
  WriteRecordsCommand,
} from "@aws-sdk/client-timestream-write";
import { SEED_NOW_MS } from "../support/store.js";
import { credentials, failure, startTestServer, type TestServer, writeClient } from "./helpers.js";

const NOW_S = SEED_NOW_MS / 1000;

function cpu(host: string, value: string, secondsAgo: number, extra: Partial<Record_> = {}): Record_ {
  return {
    Dimensions: [{ Name: "host", Value: host }],
    MeasureName: "cpu",
    MeasureValue: value,
    MeasureValueType: "DOUBLE",
    Time: String(NOW_S - secondsAgo),
    TimeUnit: "SECONDS",
    ...extra,
  };
}

describe("Timestream Write through @aws-sdk/client-timestream-write", () => {
  let t: TestServer;
  let client: TimestreamWriteClient;

  before(async () => {
    t = await startTestServer();
    client = writeClient(t.server.url);
  });
  after(async () => {
    client.destroy();
    await t.close();
  });

  it("answers DescribeEndpoints with this server's host and a one-day cache period", async () => {
    const out = await client.send(new DescribeEndpointsCommand({}));
    assert.deepEqual(out.Endpoints, [{ Address: "127.0.0.1", CachePeriodInMinutes: 1440 }]);
  });

  it("works with endpoint discovery: the SDK calls DescribeEndpoints first and then uses the address", async () => {
    // With `endpoint` set, SDKs skip discovery; with only an endpoint provider, they discover.
    const discovering = new TimestreamWriteClient({
      region: "eu-west-1",
      credentials,
      maxAttempts: 1,
      endpointProvider: () => ({ url: new URL(`${t.server.url}/`) }),
    });
    const sent: string[] = [];
    discovering.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { hostname?: string; port?: number };
        sent.push(`${context.commandName} ${request.hostname}:${request.port}`);
        return next(args);
      },
      { step: "finalizeRequest", name: "recordHosts" },
    );
    try {
      const out = await discovering.send(new ListDatabasesCommand({}));
      assert.ok(Array.isArray(out.Databases));
      assert.deepEqual(sent, [
        `DescribeEndpointsCommand 127.0.0.1:${t.server.port}`,
        `ListDatabasesCommand 127.0.0.1:${t.server.port}`,
      ]);
    } finally {
      discovering.destroy();
    }
  });

  it("creates, describes, lists, updates and deletes databases, with epoch-second timestamps as Dates", async () => {
    const created = await client.send(new CreateDatabaseCommand({ DatabaseName: "db-a" }));
    assert.equal(created.Database?.DatabaseName, "db-a");
    assert.equal(created.Database?.TableCount, 0);
    assert.match(created.Database?.Arn ?? "", /^arn:aws:timestream:[^:]+:\d{12}:database\/db-a$/);
    assert.ok(created.Database?.CreationTime instanceof Date);
    assert.equal(created.Database?.CreationTime?.getTime(), SEED_NOW_MS);

    const described = await client.send(new DescribeDatabaseCommand({ DatabaseName: "db-a" }));
    assert.deepEqual(described.Database, created.Database);

    await client.send(new CreateDatabaseCommand({ DatabaseName: "db-b" }));
    await client.send(new CreateDatabaseCommand({ DatabaseName: "db-c" }));
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListDatabasesCommand({ MaxResults: 2, NextToken: token }));
      names.push(...(page.Databases ?? []).map((d) => d.DatabaseName ?? ""));
      token = page.NextToken;
      pages++;
    } while (token);
    assert.deepEqual(names, ["db-a", "db-b", "db-c"]);
    assert.equal(pages, 2);

    t.clock.nowMs += 60_000;
    const updated = await client.send(
      new UpdateDatabaseCommand({ DatabaseName: "db-b", KmsKeyId: "ignored" }),
    );
    assert.equal(updated.Database?.LastUpdatedTime?.getTime(), t.clock.nowMs);
    t.clock.nowMs = SEED_NOW_MS;

    await client.send(new DeleteDatabaseCommand({ DatabaseName: "db-c" }));
    const err = await failure(client.send(new DescribeDatabaseCommand({ DatabaseName: "db-c" })));
    assert.ok(err instanceof ResourceNotFoundException, `got ${err.name}`);
    assert.equal(err.$metadata && (err.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
  });

  it("creates, describes, lists, updates and deletes tables", async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseName: "tables-db" }));
    const created = await client.send(
      new CreateTableCommand({
        DatabaseName: "tables-db",
        TableName: "tab1",
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
        MagneticStoreWriteProperties: { EnableMagneticStoreWrites: false },
      }),
    );
    assert.deepEqual(created.Table?.RetentionProperties, {
      MemoryStoreRetentionPeriodInHours: 24,
      MagneticStoreRetentionPeriodInDays: 1,
    });
    assert.equal(created.Table?.TableStatus, "ACTIVE");
    assert.deepEqual(created.Table?.Schema, { CompositePartitionKey: [{ Type: "MEASURE" }] });
    await client.send(new CreateTableCommand({ DatabaseName: "tables-db", TableName: "tab2" }));

    const described = await client.send(
      new DescribeTableCommand({ DatabaseName: "tables-db", TableName: "tab1" }),
    );
    assert.deepEqual(described.Table, created.Table);

    const firstPage = await client.send(new ListTablesCommand({ DatabaseName: "tables-db", MaxResults: 1 }));
    assert.deepEqual(
      firstPage.Tables?.map((x) => x.TableName),
      ["tab1"],
    );
    assert.ok(firstPage.NextToken);
    const secondPage = await client.send(
      new ListTablesCommand({ DatabaseName: "tables-db", MaxResults: 1, NextToken: firstPage.NextToken }),
    );
    assert.deepEqual(
      secondPage.Tables?.map((x) => x.TableName),
      ["tab2"],
    );
    assert.equal(secondPage.NextToken, undefined);
    const everywhere = await client.send(new ListTablesCommand({}));
    assert.ok(
      (everywhere.Tables ?? []).some((x) => x.DatabaseName === "tables-db" && x.TableName === "tab2"),
    );

    const updated = await client.send(
      new UpdateTableCommand({
        DatabaseName: "tables-db",
        TableName: "tab1",
        RetentionProperties: {
          MemoryStoreRetentionPeriodInHours: 12,
          MagneticStoreRetentionPeriodInDays: 30,
        },
        MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
      }),
    );
    assert.equal(updated.Table?.RetentionProperties?.MemoryStoreRetentionPeriodInHours, 12);
    assert.equal(updated.Table?.MagneticStoreWriteProperties?.EnableMagneticStoreWrites, true);

    // A database with tables cannot be deleted: Timestream says so with a ValidationException.
    const notEmpty = await failure(client.send(new DeleteDatabaseCommand({ DatabaseName: "tables-db" })));
    assert.ok(notEmpty instanceof ValidationException, `got ${notEmpty.name}`);
    assert.match(notEmpty.message, /still has 2 table/);

    await client.send(new DeleteTableCommand({ DatabaseName: "tables-db", TableName: "tab1" }));
    await client.send(new DeleteTableCommand({ DatabaseName: "tables-db", TableName: "tab2" }));
    await client.send(new DeleteDatabaseCommand({ DatabaseName: "tables-db" }));
  });

  it("raises the SDK's named exceptions: not found, conflict, validation", async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseName: "errors-db" }));
    await client.send(new CreateTableCommand({ DatabaseName: "errors-db", TableName: "tab" }));

    const unknownTable = await failure(
      client.send(new DescribeTableCommand({ DatabaseName: "errors-db", TableName: "nope" })),
    );
    assert.ok(unknownTable instanceof ResourceNotFoundException, `got ${unknownTable.name}`);
    assert.match(unknownTable.message, /errors-db\.nope/);

    const unknownDb = await failure(
      client.send(new CreateTableCommand({ DatabaseName: "no-such-db", TableName: "tab" })),
    );
    assert.ok(unknownDb instanceof ResourceNotFoundException, `got ${unknownDb.name}`);

    const dupDb = await failure(client.send(new CreateDatabaseCommand({ DatabaseName: "errors-db" })));
    assert.ok(dupDb instanceof ConflictException, `got ${dupDb.name}`);
    const dupTable = await failure(
      client.send(new CreateTableCommand({ DatabaseName: "errors-db", TableName: "tab" })),
    );
    assert.ok(dupTable instanceof ConflictException, `got ${dupTable.name}`);

    const badName = await failure(client.send(new CreateDatabaseCommand({ DatabaseName: "x" })));
    assert.ok(badName instanceof ValidationException, `got ${badName.name}`);
    assert.match(badName.message, /3 to 256 characters/);

    const badRetention = await failure(
      client.send(
        new CreateTableCommand({
          DatabaseName: "errors-db",
          TableName: "tab-bad",
          RetentionProperties: {
            MemoryStoreRetentionPeriodInHours: 0,
            MagneticStoreRetentionPeriodInDays: 1,
          },
        }),
      ),
    );
    assert.ok(badRetention instanceof ValidationException, `got ${badRetention.name}`);
    assert.match(badRetention.message, /MemoryStoreRetentionPeriodInHours/);

    const dimensionKey = await failure(
      client.send(
        new CreateTableCommand({
          DatabaseName: "errors-db",
          TableName: "tab-keyed",
          Schema: { CompositePartitionKey: [{ Type: "DIMENSION", Name: "host" }] },
        }),
      ),
    );
    assert.ok(dimensionKey instanceof ValidationException, `got ${dimensionKey.name}`);
    assert.match(dimensionKey.message, /partition key/);

    const tooMany = await failure(client.send(new ListDatabasesCommand({ MaxResults: 21 })));
    assert.ok(tooMany instanceof ValidationException, `got ${tooMany.name}`);
    assert.match(tooMany.message, /MaxResults/);

    const badToken = await failure(client.send(new ListDatabasesCommand({ NextToken: "garbage" })));
    assert.ok(badToken instanceof ValidationException, `got ${badToken.name}`);
    assert.match(badToken.message, /NextToken/);
  });

  describe("WriteRecords", () => {
    before(async () => {
      await client.send(new CreateDatabaseCommand({ DatabaseName: "write-db" }));
      await client.send(
        new CreateTableCommand({
          DatabaseName: "write-db",
          TableName: "metrics",
          RetentionProperties: {
            MemoryStoreRetentionPeriodInHours: 24,
            MagneticStoreRetentionPeriodInDays: 1,
          },
        }),
      );
    });

    it("writes 100 records with CommonAttributes and reports RecordsIngested", async () => {
      const records: Record_[] = [];
      for (let i = 0; i < 100; i++) {
        records.push({
          Dimensions: [{ Name: "host", Value: `h-${i}` }],
          MeasureValue: String(i),
          Time: String(NOW_S - 60),
        });
      }
      const out = await client.send(
        new WriteRecordsCommand({
          DatabaseName: "write-db",
          TableName: "metrics",
          CommonAttributes: { MeasureName: "mem", MeasureValueType: "DOUBLE", TimeUnit: "SECONDS" },
          Records: records,
        }),
      );
      assert.deepEqual(out.RecordsIngested, { Total: 100, MemoryStore: 100, MagneticStore: 0 });
    });

    it("rejects bad records by index with RejectedRecordsException (HTTP 419), and writes the rest", async () => {
      await client.send(
        new WriteRecordsCommand({
          DatabaseName: "write-db",
          TableName: "metrics",
          Records: [cpu("dup", "1.5", 30, { Version: 3 })],
        }),
      );
      const records: Record_[] = [];
      for (let i = 0; i < 100; i++) records.push(cpu(`w-${i}`, String(i), 10));
      records[7] = cpu("w-7", "not-a-number", 10);
      records[42] = cpu("dup", "2.5", 30, { Version: 2 }); // a different value with a lower version
      records[99] = cpu("w-99", "1", 48 * 3600); // older than the memory store's 24 hours
      const err = await failure(
        client.send(
          new WriteRecordsCommand({ DatabaseName: "write-db", TableName: "metrics", Records: records }),
        ),
      );
      assert.ok(err instanceof RejectedRecordsException, `got ${err.name}: ${err.message}`);
      assert.equal((err.$metadata as { httpStatusCode: number }).httpStatusCode, 419);
      const rejected = err.RejectedRecords ?? [];
      assert.deepEqual(
        rejected.map((r) => r.RecordIndex),
        [7, 42, 99],
      );
      assert.equal(rejected[1]?.ExistingVersion, 3);
      for (const r of rejected) assert.ok(typeof r.Reason === "string" && r.Reason.length > 0);

      const written = await t.store.query({
        QueryString: `SELECT count(*) AS n FROM "write-db"."metrics" WHERE host LIKE 'w-%'`,
      });
      // 99 records were for w-* hosts (index 42 was for "dup"), and two of them were rejected.
      assert.equal(written.Rows[0]?.Data[0]?.ScalarValue, "97");
      const kept = await t.store.query({
        QueryString: `SELECT measure_value::double FROM "write-db"."metrics" WHERE host = 'dup'`,
      });
      assert.equal(
        kept.Rows[0]?.Data[0]?.ScalarValue,
        "1.5",
        "the rejected record left the stored point alone",
      );
    });

    it("refuses 101 records with a ValidationException and writes none of them", async () => {
      const records: Record_[] = [];
      for (let i = 0; i < 101; i++) records.push(cpu(`big-${i}`, "1", 5));
      const err = await failure(
        client.send(
          new WriteRecordsCommand({ DatabaseName: "write-db", TableName: "metrics", Records: records }),
        ),
      );
      assert.ok(err instanceof ValidationException, `got ${err.name}`);
      assert.match(err.message, /at most 100/);
      const none = await t.store.query({
        QueryString: `SELECT count(*) AS n FROM "write-db"."metrics" WHERE host LIKE 'big-%'`,
      });
      assert.equal(none.Rows[0]?.Data[0]?.ScalarValue, "0");
    });

    it("names the table that does not exist", async () => {
      const err = await failure(
        client.send(
          new WriteRecordsCommand({
            DatabaseName: "write-db",
            TableName: "missing",
            Records: [cpu("h", "1", 1)],
          }),
        ),
      );
      assert.ok(err instanceof ResourceNotFoundException, `got ${err.name}`);
      assert.match(err.message, /write-db\.missing/);
    });

    it("refuses an empty record list", async () => {
      const err = await failure(
        client.send(new WriteRecordsCommand({ DatabaseName: "write-db", TableName: "metrics", Records: [] })),
      );
      assert.ok(err instanceof ValidationException, `got ${err.name}`);
    });
  });

  it("keeps tags on databases and tables: create with tags, tag, untag, list", async () => {
    const db = await client.send(
      new CreateDatabaseCommand({ DatabaseName: "tagged-db", Tags: [{ Key: "team", Value: "ops" }] }),
    );
    const arn = db.Database?.Arn ?? "";
    await client.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: "env", Value: "test" }] }));
    const listed = await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    assert.deepEqual(listed.Tags, [
      { Key: "team", Value: "ops" },
      { Key: "env", Value: "test" },
    ]);
    await client.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ["team"] }));
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags, [
      { Key: "env", Value: "test" },
    ]);

    const table = await client.send(
      new CreateTableCommand({
        DatabaseName: "tagged-db",
        TableName: "tab",
        Tags: [{ Key: "k", Value: "v" }],
      }),
    );
    assert.deepEqual(
      (await client.send(new ListTagsForResourceCommand({ ResourceARN: table.Table?.Arn }))).Tags,
      [{ Key: "k", Value: "v" }],
    );

    // A deleted table's tags go with it.
    await client.send(new DeleteTableCommand({ DatabaseName: "tagged-db", TableName: "tab" }));
    await client.send(new CreateTableCommand({ DatabaseName: "tagged-db", TableName: "tab" }));
    assert.deepEqual(
      (await client.send(new ListTagsForResourceCommand({ ResourceARN: table.Table?.Arn }))).Tags,
      [],
    );

    const unknown = await failure(
      client.send(new ListTagsForResourceCommand({ ResourceARN: `${arn.replace("tagged-db", "other-db")}` })),
    );
    assert.ok(unknown instanceof ResourceNotFoundException, `got ${unknown.name}`);
    const notAnArn = await failure(client.send(new TagResourceCommand({ ResourceARN: "db", Tags: [] })));
    assert.ok(notAnArn instanceof ResourceNotFoundException, `got ${notAnArn.name}`);

    const badKey = await failure(
      client.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: "", Value: "v" }] })),
    );
    assert.ok(badKey instanceof ValidationException, `got ${badKey.name}`);
    const many = Array.from({ length: 200 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    const overQuota = await failure(client.send(new TagResourceCommand({ ResourceARN: arn, Tags: many })));
    assert.ok(overQuota instanceof ServiceQuotaExceededException, `got ${overQuota.name}`);
  });
});
