/**
 * The OpenAPI document of the REST API (`GET /api/v1/openapi.json`) and its reference page, on a
 * real server (startHourglass, the example DAGs): every route the app mounts under /api/v1 is in
 * the document; the document is structurally OpenAPI 3.1 (and passes openapi-spec-validator when
 * Python has it); every documented operation, called with a request built from its schemas,
 * answers one of its documented statuses, and its JSON answers fit the declared schemas; a bad
 * request is a 400 naming the field, and changes nothing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type OpenApiDocument, openApiPath, routeSpecOf } from "../../src/api/openapi/index.js";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";

type JsonSchema = Record<string, unknown>;

const DB = "openapi-db";
const TABLE = "openapi-table";
const STREAM = "openapi-stream";
const BUCKET = "openapi-bucket";
const KEY = "2021-09-22-13/my_file.csv";
const DAG = "timestream-airflow-demo";
const RUN = "manual__2021-09-22T13:00:00+00:00";

/** Values for path parameters, by name (and by the path's first segment where names are shared). */
function pathValue(name: string, route: string): string {
  const values: Record<string, string> = {
    db: DB,
    table: TABLE,
    shard: "shardId-000000000000",
    bucket: BUCKET,
    key: KEY,
    dagId: DAG,
    runId: RUN,
    taskId: "ts_query",
    try: "1",
    id: "1",
  };
  if (name === "name") return route.startsWith("/api/v1/connectors") ? "sample" : STREAM;
  const value = values[name];
  assert.ok(value !== undefined, `the test has no value for the path parameter ${name} of ${route}`);
  return value;
}

describe("OpenAPI document (/api/v1/openapi.json, /api/v1/docs)", () => {
  let dir: string;
  let runtime: HourglassRuntime;
  let doc: OpenApiDocument;
  const call = (route: string, init: RequestInit = {}) => fetch(`${runtime.url}${route}`, init);
  const send = (method: string, route: string, body: unknown) =>
    call(route, {
      method,
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-openapi-"));
    const config = resolveConfig({
      flags: { stateDir: path.join(dir, "state"), dagsDir: path.join(dir, "dags"), port: 0 },
      env: {},
      cwd: dir,
    });
    fs.mkdirSync(config.dagsDir, { recursive: true });
    runtime = await startHourglass(config, {
      scheduler: false,
      workers: 0,
      writeServerInfo: false,
      dagsDirs: [path.resolve("examples/dags")],
      log: silentLog,
    });
    // What the sampled requests find: a table, a stream, an object, a run.
    for (const [route, body] of [
      ["/api/v1/databases", { DatabaseName: DB }],
      [`/api/v1/databases/${DB}/tables`, { TableName: TABLE }],
      ["/api/v1/streams", { StreamName: STREAM, ShardCount: 1 }],
      ["/api/v1/buckets", { Bucket: BUCKET }],
      [`/api/v1/dags/${DAG}/runs`, { logicalDate: "2021-09-22T13:00:00Z" }],
    ] as const) {
      const response = await send("POST", route, body);
      assert.equal(response.status, 201, `${route}: ${await response.text()}`);
    }
    const put = await call(`/api/v1/buckets/${BUCKET}/objects/${KEY}`, {
      method: "PUT",
      headers: { "content-type": "text/csv" },
      body: "a,b\n1,2\n",
    });
    assert.equal(put.status, 200);
    const response = await call("/api/v1/openapi.json");
    assert.equal(response.status, 200);
    doc = (await response.json()) as OpenApiDocument;
  });
  after(async () => {
    await runtime?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("documents every route the app mounts under /api/v1, and nothing else", () => {
    const mounted = runtime.app.routes.filter((r) => r.path.startsWith("/api/v1/") && r.method !== "ALL");
    assert.ok(mounted.length >= 50, `only ${mounted.length} routes mounted`);
    const undocumented = mounted.filter(
      (r) => !routeSpecOf(r.handler) || !doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()],
    );
    assert.deepEqual(
      undocumented.map((r) => `${r.method} ${r.path}`),
      [],
      "routes mounted without defineRoute, or missing from the document",
    );
    const documented = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item)
        .filter((method) => method !== "head")
        .map((method) => `${method} ${p}`),
    );
    const mountedKeys = mounted.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`);
    assert.deepEqual(documented.sort(), [...new Set(mountedKeys)].sort());
    for (const expected of [
      "/api/v1/query",
      "/api/v1/dags/{dagId}/clear",
      "/api/v1/connectors/{name}",
      "/api/v1/exports",
    ]) {
      assert.ok(doc.paths[expected], `${expected} is documented`);
    }
    assert.equal(
      doc.paths["/api/v1/buckets/{bucket}/objects/{key}"]?.["head"]?.operationId,
      "headBucketsByBucketObjectsByKey",
    );
  });

  it("is a structurally valid OpenAPI 3.1 document whose $refs all resolve", () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.ok(doc.info.title && doc.info.version);
    const operationIds = new Set<string>();
    const tagNames = new Set(doc.tags.map((t) => t.name));
    for (const [route, item] of Object.entries(doc.paths)) {
      assert.ok(route.startsWith("/api/v1/"), route);
      const templated = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${route}`;
        assert.ok(["get", "head", "post", "put", "patch", "delete"].includes(method), where);
        assert.ok(!operationIds.has(op.operationId), `operationId ${op.operationId} is unique`);
        operationIds.add(op.operationId);
        assert.ok(op.summary, `${where} has a summary`);
        assert.ok(
          op.tags.every((t) => tagNames.has(t)),
          `${where}: its tags are declared`,
        );
        const pathParams = (op.parameters ?? []).filter((p) => p.in === "path");
        assert.deepEqual(
          pathParams.map((p) => p.name).sort(),
          [...templated].sort(),
          `${where}: path parameters`,
        );
        assert.ok(
          pathParams.every((p) => p.required),
          `${where}: path parameters are required`,
        );
        const statuses = Object.keys(op.responses);
        assert.ok(
          statuses.some((s) => /^2\d\d$/.test(s)),
          `${where} documents a success`,
        );
        assert.ok(
          statuses.every((s) => s === "default" || /^[1-5]\d\d$/.test(s)),
          `${where}: statuses`,
        );
        for (const response of Object.values(op.responses))
          assert.ok(response.description, `${where}: descriptions`);
      }
    }
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key === "$ref" && typeof value === "string") refs.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    assert.ok(refs.length > 50, "named schemas are referenced, not copied");
    for (const ref of new Set(refs)) {
      assert.ok(ref.startsWith("#/"), `${ref} is local`);
      const target = ref
        .slice(2)
        .split("/")
        .reduce<unknown>(
          (node, part) =>
            (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")],
          doc,
        );
      assert.ok(target && typeof target === "object", `${ref} resolves`);
    }
    for (const name of [
      "Error",
      "Database",
      "Table",
      "WriteRecord",
      "QueryResponse",
      "Connector",
      "Run",
      "Backfill",
    ]) {
      assert.ok(doc.components.schemas[name], `component ${name}`);
    }
  });

  it("passes openapi-spec-validator (when python3 has it)", async (t) => {
    // Asynchronous: a blocked event loop would let the server close the client's idle sockets unseen.
    const probe = await python("import openapi_spec_validator", "");
    if (probe.status !== 0) {
      t.skip("python3 has no openapi_spec_validator (pip install openapi-spec-validator)");
      return;
    }
    const check = await python(
      "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))\nprint('valid')",
      JSON.stringify(doc),
    );
    assert.equal(check.status, 0, check.stderr);
    assert.equal(check.stdout.trim(), "valid");
  });

  it("answers every documented operation, called from its schemas, with a documented status and shape", async () => {
    const specs = new Map(
      runtime.app.routes.flatMap((r) => {
        const spec = routeSpecOf(r.handler);
        return spec ? [[`${r.method.toLowerCase()} ${openApiPath(r.path)}`, spec] as const] : [];
      }),
    );
    // Reads first, then changes, deletes last: the fixtures stay while they are needed.
    const rank: Record<string, number> = { get: 0, head: 0, post: 1, put: 1, patch: 1, delete: 2 };
    const operations = Object.entries(doc.paths)
      .flatMap(([route, item]) => Object.entries(item).map(([method, op]) => ({ route, method, op })))
      .sort((a, b) => (rank[a.method] ?? 0) - (rank[b.method] ?? 0));
    const problems: string[] = [];
    const succeeded: string[] = [];
    for (const { route, method, op } of operations) {
      let url = route.replace(/\{([^}]+)\}/g, (_, name: string) =>
        encodeURIComponent(pathValue(name, route)),
      );
      const query = new URLSearchParams();
      for (const p of op.parameters ?? []) {
        if (p.in === "query" && p.required) query.set(p.name, String(sample(p.schema, doc)));
      }
      if ([...query].length > 0) url += `?${query}`;
      const init: RequestInit = { method: method.toUpperCase() };
      const content = op.requestBody?.content ?? {};
      if (content["application/json"]) {
        init.headers = { "content-type": "application/json" };
        init.body = JSON.stringify(sample(content["application/json"].schema, doc));
      } else if (Object.keys(content).length > 0) {
        init.headers = { "content-type": "text/csv" };
        init.body = "a,b\n3,4\n";
      }
      const response = await call(url, init).catch((error: Error) => {
        throw new Error(`${method.toUpperCase()} ${url}: ${error.message} (${String(error.cause)})`);
      });
      const text = method === "head" ? "" : await response.text();
      const where = `${method.toUpperCase()} ${url} → ${response.status} ${text.slice(0, 200)}`;
      if (text.includes('"no route for')) problems.push(`${where}: no route`);
      const documented = op.responses[String(response.status)];
      if (!documented) {
        problems.push(`${where}: status not documented (${Object.keys(op.responses).join(", ")})`);
        continue;
      }
      if (response.status < 300) succeeded.push(`${method} ${route}`);
      if (method === "head" || response.status === 204) continue;
      const spec = specs.get(`${method} ${route}`);
      const declared = spec?.responses[response.status];
      if (declared?.schema) {
        const parsed = declared.schema.safeParse(JSON.parse(text));
        if (!parsed.success)
          problems.push(`${where}: answer does not fit its schema: ${parsed.error.message}`);
      } else if (declared?.contentType) {
        const type = response.headers.get("content-type") ?? "";
        if (declared.contentType !== "application/octet-stream" && !type.startsWith(declared.contentType)) {
          problems.push(`${where}: content type ${type}, documented ${declared.contentType}`);
        }
      } else if (response.status >= 400) {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (!body.error?.code || !body.error.message) problems.push(`${where}: not the error shape`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(operations.length >= 50, `${operations.length} operations`);
    // Most answers are successes, so the success schemas are checked against real answers.
    assert.ok(succeeded.length >= 40, `only ${succeeded.length} successes: ${succeeded.join(", ")}`);
  });

  it("answers a bad request with 400 naming the field, and changes nothing", async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      [
        "POST",
        "/api/v1/databases",
        { DatabaseName: 42 },
        /^invalid request body: DatabaseName: .*expected string/,
      ],
      [
        "POST",
        `/api/v1/databases/${DB}/tables`,
        { TableName: "bad-retention", RetentionProperties: { MemoryStoreRetentionPeriodInHours: "24" } },
        /^invalid request body: RetentionProperties\.MemoryStoreRetentionPeriodInHours: must be an integer from 1 to 8766, got "24"$/,
      ],
      [
        "POST",
        "/api/v1/query",
        { QueryString: "SELECT 1", MaxRows: 5000 },
        /MaxRows must be an integer from 1 to 1000, got 5000/,
      ],
      [
        "POST",
        "/api/v1/streams",
        { StreamName: "bad-stream", ShardCount: "two" },
        /^invalid request body: ShardCount: /,
      ],
      [
        "POST",
        "/api/v1/backfills",
        { dagId: DAG, from: "2021-09-21", to: "2021-09-22", maxActiveRuns: "3" },
        /maxActiveRuns must be a number/,
      ],
      [
        "POST",
        "/api/v1/backfills",
        { dagId: DAG, from: "2021-09-21", to: "2021-09-22", reprocess: "some" },
        /reprocess must be one of none, failed, all, stale, got "some"/,
      ],
      [
        "POST",
        "/api/v1/connectors",
        { name: "bad", stream: STREAM, database: DB, table: TABLE, batchSize: 0 },
        /^invalid connector definition: batchSize: /,
      ],
      [
        "POST",
        "/api/v1/buckets",
        { Bucket: BUCKET, Region: "eu" },
        /^invalid request body: body: Unrecognized key: "Region"$/,
      ],
      ["POST", "/api/v1/databases", "[1]", /^the request body must be a JSON object$/],
      ["POST", "/api/v1/databases", "{", /^the request body must be JSON$/],
    ];
    for (const [method, route, body, message] of cases) {
      const response = await send(method, route, body);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 400, `${method} ${route}: ${JSON.stringify(answer)}`);
      assert.equal(answer.error.code, "ValidationError");
      assert.match(answer.error.message, message, `${method} ${route}`);
    }
    for (const [route, message] of [
      ["/api/v1/runs?limit=many", /^invalid query: limit must be a positive integer, got "many"$/],
      [
        `/api/v1/streams/${STREAM}/shards/shardId-000000000000/records?waitMs=-1`,
        /waitMs must be an integer in 0\.\.20000, got "-1"/,
      ],
      ["/api/v1/backfills/first", /^invalid path: backfill id must be a positive integer, got "first"$/],
    ] as const) {
      const response = await call(route);
      const answer = (await response.json()) as { error: { message: string } };
      assert.equal(response.status, 400, route);
      assert.match(answer.error.message, message, route);
    }
    // Nothing was created by the refused requests.
    const tables = (await (await call(`/api/v1/databases/${DB}/tables`)).json()) as {
      Tables: { TableName: string }[];
    };
    assert.ok(!tables.Tables.some((t) => t.TableName === "bad-retention"));
    assert.deepEqual(
      await runtime.streams.listStreams().then((names) => names.filter((n) => n === "bad-stream")),
      [],
    );
    assert.deepEqual((await runtime.workflows.listBackfills({ dagId: DAG })).length, 0);
    assert.ok(!(await runtime.connectors.list()).some((c) => c.name === "bad"));
  });

  it("serves a self-contained reference page with every operation and schema", async () => {
    const response = await call("/api/v1/docs");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const html = await response.text();
    assert.doesNotMatch(html, /<script|\ssrc=|href="https?:/i, "nothing loaded from elsewhere, no script");
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item))
        assert.ok(html.includes(`id="${op.operationId}"`), op.operationId);
    }
    for (const name of Object.keys(doc.components.schemas))
      assert.ok(html.includes(`id="schema-${name}"`), name);
    for (const tag of doc.tags) assert.ok(html.includes(`id="tag-${tag.name}"`), tag.name);
    assert.ok(html.includes('href="#schema-Table"'), "schemas are linked where they are used");
  });
});

/** The smallest value a JSON Schema accepts, as far as this document's schemas go. */
function sample(schema: JsonSchema, doc: OpenApiDocument, depth = 0): unknown {
  assert.ok(depth < 20, "schemas nest too deep to sample");
  const ref = schema["$ref"];
  if (typeof ref === "string") {
    return sample(doc.components.schemas[ref.replace("#/components/schemas/", "")] ?? {}, doc, depth + 1);
  }
  if (schema["default"] !== undefined) return schema["default"];
  if (Array.isArray(schema["enum"])) return schema["enum"][0];
  if ("const" in schema) return schema["const"];
  const options = (schema["anyOf"] ?? schema["oneOf"]) as JsonSchema[] | undefined;
  if (options) return sample(options[0] ?? {}, doc, depth + 1);
  const type = Array.isArray(schema["type"]) ? schema["type"][0] : schema["type"];
  switch (type) {
    case "object": {
      const properties = (schema["properties"] ?? {}) as Record<string, JsonSchema>;
      const required = (schema["required"] ?? []) as string[];
      return Object.fromEntries(
        required.map((name) => [name, sample(properties[name] ?? {}, doc, depth + 1)]),
      );
    }
    case "array":
      return [];
    case "integer":
    case "number":
      return (schema["minimum"] as number | undefined) ?? 1;
    case "boolean":
      return false;
    case "null":
      return null;
    case "string": {
      const pattern = typeof schema["pattern"] === "string" ? new RegExp(schema["pattern"]) : null;
      return ["sample", "1", "c2FtcGxl"].find((text) => !pattern || pattern.test(text)) ?? "sample";
    }
    default:
      return {};
  }
}

/** Runs a Python snippet with `input` on its stdin; status -1 when python3 cannot start. */
function python(code: string, input: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("python3", ["-c", code], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => resolve({ status: -1, stdout, stderr: error.message }));
    child.on("close", (status) => resolve({ status: status ?? -1, stdout, stderr }));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}
