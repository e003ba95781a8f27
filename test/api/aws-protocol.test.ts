import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/api/app.js";
import { createSeedTable, openTestStore, type TestStore } from "../support/store.js";

/** AWS JSON requests through `app.request()` (no socket), for what the SDKs never send. */
describe("the AWS JSON protocol layer", () => {
  let t: TestStore;
  let app: ReturnType<typeof createApp>;

  const call = async (target: string | null, body: string, contentType = "application/x-amz-json-1.0") => {
    const headers: Record<string, string> = { "content-type": contentType, host: "hourglass.test:8080" };
    if (target !== null) headers["x-amz-target"] = target;
    const response = await app.request("/", { method: "POST", headers, body });
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as Record<string, unknown>,
    };
  };

  before(async () => {
    t = await openTestStore();
    await createSeedTable(t.store);
    // A name of the user's own: the Host guard takes it once allowed (src/api/guards.ts).
    app = createApp({ store: t.store, guards: { allowedHosts: ["hourglass.test"] } });
  });
  after(async () => {
    await t.close();
  });

  it("answers in JSON 1.0 with a request id, and timestamps as epoch seconds", async () => {
    const r = await call(
      "Timestream_20181101.DescribeDatabase",
      JSON.stringify({ DatabaseName: "airflow-db" }),
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/x-amz-json-1.0");
    assert.match(r.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
    const database = r.json["Database"] as Record<string, unknown>;
    assert.equal(database["CreationTime"], Date.UTC(2021, 8, 22, 16) / 1000);
  });

  it("accepts an empty body as no input, and ignores the Authorization header", async () => {
    const response = await app.request("/", {
      method: "POST",
      headers: {
        "x-amz-target": "Timestream_20181101.ListDatabases",
        authorization:
          "AWS4-HMAC-SHA256 Credential=anyone/20210922/us-east-1/timestream/aws4_request, Signature=00",
      },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { Databases: { DatabaseName: string }[] };
    assert.deepEqual(
      body.Databases.map((d) => d.DatabaseName),
      ["airflow-db"],
    );
  });

  it("hands out the host the client used, without its port, from DescribeEndpoints", async () => {
    const r = await call("Timestream_20181101.DescribeEndpoints", "{}");
    assert.deepEqual(r.json, { Endpoints: [{ Address: "hourglass.test", CachePeriodInMinutes: 1440 }] });
    const fixed = createApp({ store: t.store, describeEndpointsAddress: "ingest.example" });
    const response = await fixed.request("/", {
      method: "POST",
      headers: { "x-amz-target": "Timestream_20181101.DescribeEndpoints" },
      body: "{}",
    });
    assert.equal(
      ((await response.json()) as { Endpoints: { Address: string }[] }).Endpoints[0]?.Address,
      "ingest.example",
    );
  });

  it("names errors in __type, x-amzn-ErrorType and message (and Timestream's Message)", async () => {
    const r = await call(
      "Timestream_20181101.DescribeTable",
      JSON.stringify({ DatabaseName: "airflow-db", TableName: "nope" }),
    );
    assert.equal(r.status, 404);
    assert.equal(r.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
    assert.equal(r.headers.get("content-type"), "application/x-amz-json-1.0");
    assert.equal(r.json["__type"], "ResourceNotFoundException");
    assert.match(String(r.json["message"]), /airflow-db\.nope/);
    assert.equal(r.json["Message"], r.json["message"]);
  });

  it("refuses a body that is not JSON with a SerializationException", async () => {
    const r = await call("Timestream_20181101.ListDatabases", "{not json");
    assert.equal(r.status, 400);
    assert.equal(r.json["__type"], "SerializationException");
    assert.match(String(r.json["message"]), /not valid JSON/);
    const array = await call("Timestream_20181101.ListDatabases", "[1]");
    assert.equal(array.json["__type"], "SerializationException");
    assert.match(String(array.json["message"]), /JSON object/);
  });

  it("refuses an unknown operation, an unknown service and a missing target with UnknownOperationException", async () => {
    const op = await call("Timestream_20181101.CreateBatchLoadTask", "{}");
    assert.equal(op.status, 400);
    assert.equal(op.json["__type"], "UnknownOperationException");
    assert.match(String(op.json["message"]), /CreateBatchLoadTask is not supported/);
    // Inherited names of Object.prototype are not operations.
    const proto = await call("Timestream_20181101.constructor", "{}");
    assert.equal(proto.json["__type"], "UnknownOperationException");
    const service = await call("DynamoDB_20120810.ListTables", "{}");
    assert.equal(service.json["__type"], "UnknownOperationException");
    const none = await call(null, "{}");
    assert.equal(none.json["__type"], "UnknownOperationException");
    assert.match(String(none.json["message"]), /X-Amz-Target/);
  });

  it("refuses Kinesis calls clearly when the server has no stream service", async () => {
    const r = await call("Kinesis_20131202.ListStreams", "{}", "application/x-amz-json-1.1");
    assert.equal(r.status, 400);
    assert.equal(r.headers.get("content-type"), "application/x-amz-json-1.1");
    assert.equal(r.json["__type"], "UnknownOperationException");
    assert.match(String(r.json["message"]), /no stream service/);
  });

  it("names every bad member of an input in one ValidationException", async () => {
    const r = await call(
      "Timestream_20181101.CreateTable",
      JSON.stringify({ DatabaseName: 5, RetentionProperties: {} }),
    );
    assert.equal(r.status, 400);
    assert.equal(r.json["__type"], "ValidationException");
    const message = String(r.json["message"]);
    assert.match(message, /^CreateTable: 4 validation errors detected/);
    assert.match(message, /TableName: Invalid input: expected string, received undefined/);
    for (const member of [
      "DatabaseName",
      "TableName",
      "RetentionProperties.MemoryStoreRetentionPeriodInHours",
    ]) {
      assert.ok(message.includes(member), `${member} in: ${message}`);
    }
  });

  it("reports records that are not objects as a ValidationException", async () => {
    const r = await call(
      "Timestream_20181101.WriteRecords",
      JSON.stringify({ DatabaseName: "airflow-db", TableName: "airflow-table", Records: [null] }),
    );
    assert.equal(r.status, 400);
    assert.equal(r.json["__type"], "ValidationException");
    assert.match(String(r.json["message"]), /Records\.0/);
  });

  it("refuses a body over 8 MiB", async () => {
    const big = JSON.stringify({ DatabaseName: "x".repeat(9 * 1024 * 1024) });
    const r = await call("Timestream_20181101.CreateDatabase", big);
    assert.equal(r.status, 413);
    assert.equal(r.json["__type"], "ValidationException");
    assert.match(String(r.json["message"]), /larger than 8,388,608 bytes/);
  });

  it("answers GET /health", async () => {
    const response = await app.request("/health");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });
  });
});
