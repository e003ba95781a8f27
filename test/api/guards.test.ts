/**
 * The guards in front of every route (src/api/guards.ts): cross-site changes, DNS rebinding and
 * oversized bodies are refused with a clear error, and nothing they asked for happens.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "./helpers.js";

let t: TestServer;
before(async () => {
  t = await startTestServer({
    guards: { allowedHosts: ["*.corp.example"], allowedOrigins: ["http://ui.corp.example:3000"] },
    maxRestBodyBytes: 1024 * 1024,
  });
});
after(() => t.close());

const databases = async () =>
  (
    (await (await fetch(`${t.server.url}/api/v1/databases`)).json()) as {
      Databases: { DatabaseName: string }[];
    }
  ).Databases.map((d) => d.DatabaseName);

function createDatabase(
  name: string,
  headers: Record<string, string>,
  body = JSON.stringify({ DatabaseName: name }),
) {
  return fetch(`${t.server.url}/api/v1/databases`, { method: "POST", headers, body });
}

/** A request with a Host header of our choosing (fetch keeps the URL's). */
function withHost(
  method: string,
  path: string,
  host: string,
  headers: Record<string, string> = {},
  body = "",
): Promise<{ status: number; body: string }> {
  const url = new URL(t.server.url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, method, path, headers: { ...headers, host } },
      (response) => {
        let text = "";
        response.on("data", (d: Buffer) => {
          text += d.toString();
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * A request through Python's http.client, which writes the whole body before it reads the answer
 * (as boto3 and requests do): it sees the answer only if the server reads the body first.
 */
function pythonPost(
  path: string,
  bodyBytes: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const script = `
import http.client, json, sys
port = int(sys.argv[1]); path = sys.argv[2]; size = int(sys.argv[3]); headers = json.loads(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
conn.request("POST", path, body=b"x" * size, headers=headers)
r = conn.getresponse()
print(json.dumps({"status": r.status, "body": r.read().decode()}))
`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      "python3",
      ["-c", script, String(new URL(t.server.url).port), path, String(bodyBytes), JSON.stringify(headers)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`python exited ${code}: ${err}`)),
    );
  });
}

describe("request guards", () => {
  it("refuses a change from another site's page, and creates nothing", async () => {
    const response = await createDatabase("evil_db", {
      "content-type": "application/json",
      origin: "http://evil.example",
    });
    assert.equal(response.status, 403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "AccessDenied");
    assert.match(body.error.message, /POST from the web page at http:\/\/evil\.example is refused/);
    const crossSite = await createDatabase("evil_db", {
      "content-type": "application/json",
      "sec-fetch-site": "cross-site",
    });
    assert.equal(crossSite.status, 403);
    assert.ok(!(await databases()).includes("evil_db"));
  });

  it("takes changes from its own origin, allowed origins and clients without an Origin", async () => {
    const own = await createDatabase("own_db", { "content-type": "application/json", origin: t.server.url });
    assert.equal(own.status, 201, await own.text());
    const allowed = await createDatabase("allowed_db", {
      "content-type": "application/json",
      origin: "http://ui.corp.example:3000",
    });
    assert.equal(allowed.status, 201, await allowed.text());
    const script = await createDatabase("script_db", { "content-type": "application/json" });
    assert.equal(script.status, 201, await script.text());
    // Reads are not changes: another site's page may not read the answer (no CORS), but the request is harmless.
    const read = await fetch(`${t.server.url}/api/v1/databases`, {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(read.status, 200);
  });

  it("refuses REST changes whose body a browser can send cross-site without asking", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const response = await createDatabase("plain_db", { "content-type": type });
      assert.equal(response.status, 415, type);
      const body = (await response.json()) as { error: { message: string } };
      assert.match(body.error.message, /must send its body as application\/json/);
    }
    assert.ok(!(await databases()).includes("plain_db"));
  });

  it("refuses a Host that is not this machine's (DNS rebinding), in the route's error shape", async () => {
    const rest = await withHost("GET", "/api/v1/databases", "rebind.evil.example");
    assert.equal(rest.status, 421);
    assert.match(JSON.parse(rest.body).error.message, /Host "rebind\.evil\.example"/);
    const aws = await withHost(
      "POST",
      "/",
      "rebind.evil.example",
      { "x-amz-target": "Timestream_20181101.ListDatabases", "content-type": "application/x-amz-json-1.0" },
      "{}",
    );
    assert.equal(aws.status, 421);
    assert.equal(JSON.parse(aws.body).__type, "AccessDeniedException");
    for (const host of ["localhost", "127.0.0.1", "bucket.localhost", "api.corp.example"]) {
      const ok = await withHost("GET", "/health", `${host}:1234`);
      assert.equal(ok.status, 200, host);
    }
  });

  it("answers an oversized REST body 413 after reading it, and takes a chunked body under the limit", async () => {
    const big = await pythonPost("/api/v1/databases", 3 * 1024 * 1024, {
      "Content-Type": "application/json",
    });
    assert.equal(big.status, 413);
    assert.match(JSON.parse(big.body).error.message, /larger than 1,048,576 bytes/);
    const chunks = [JSON.stringify({ DatabaseName: "chunked_db" })];
    const chunked = await fetch(`${t.server.url}/api/v1/databases`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: "half",
    } as RequestInit);
    assert.equal(chunked.status, 201, await chunked.text());
    assert.ok((await databases()).includes("chunked_db"));
  });

  it("answers an oversized AWS call 413 in AWS's shape, not a dropped connection", async () => {
    const answer = await pythonPost("/", 9 * 1024 * 1024, {
      "X-Amz-Target": "Timestream_20181101.WriteRecords",
      "Content-Type": "application/x-amz-json-1.0",
    });
    assert.equal(answer.status, 413);
    const body = JSON.parse(answer.body) as { __type: string; message: string };
    assert.equal(body.__type, "ValidationException");
    assert.match(body.message, /larger than 8,388,608 bytes/);
    assert.equal((await fetch(`${t.server.url}/health`)).status, 200);
  });
});
