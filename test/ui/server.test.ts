/**
 * The UI's server side on a real runtime: the committed bundle is the one the source builds; the
 * page and assets are served with their types, gzip, caching and revalidation; `GET /` stays the
 * S3 answer for clients that do not ask for HTML; the grid and changes routes answer, and refuse
 * bad input with a clear error.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { assetsDir, bundleUi } from "../../scripts/ui-bundle.js";
import { demoDagId, type Scenario, startScenario } from "../e2e/helpers.js";

describe("the committed UI bundle", () => {
  it("is what src/ui/client builds to (run `npm run build:ui` after changing it)", async () => {
    const built = await bundleUi();
    for (const [name, bytes] of Object.entries(built)) {
      const committed = fs.readFileSync(path.join(assetsDir, name));
      assert.ok(
        Buffer.from(bytes).equals(committed),
        `src/ui/assets/${name} is not the build of src/ui/client: run npm run build:ui and commit it`,
      );
    }
  });
});

describe("serving the UI and its data", () => {
  let s: Scenario;
  let url: string;
  before(async () => {
    s = await startScenario({ scheduler: false, workers: 0 });
    url = s.runtime.url;
  });
  after(async () => s?.close());

  it("serves the page to browsers at /, naming the assets by their content hash", async () => {
    const response = await fetch(`${url}/`, { headers: { accept: "text/html,*/*" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    const html = await response.text();
    assert.match(html, /<script type="module" src="\/_ui\/app\.js\?v=[0-9a-f]{16}">/);
    assert.match(html, /<link rel="stylesheet" href="\/_ui\/app\.css\?v=[0-9a-f]{16}">/);
  });

  it("leaves GET / to S3 for clients that do not ask for HTML (curl, S3 tools)", async () => {
    // Signatures are checked (the default), so S3 answers an unsigned ListBuckets with its own
    // XML refusal rather than the UI's page.
    const response = await fetch(`${url}/`, { headers: { accept: "*/*" } });
    assert.equal(response.status, 403);
    const body = await response.text();
    assert.match(body, /<Error><Code>AccessDenied<\/Code>/);
    assert.doesNotMatch(body, /<html/i);
  });

  it("serves the assets gzipped when asked, with their types, a year's caching and 304s", async () => {
    for (const [name, type] of [
      ["app.js", "text/javascript; charset=utf-8"],
      ["app.css", "text/css; charset=utf-8"],
    ] as const) {
      const committed = fs.readFileSync(path.join(assetsDir, name));
      const zipped = await fetch(`${url}/_ui/${name}`, { headers: { "accept-encoding": "gzip" } });
      assert.equal(zipped.headers.get("content-type"), type);
      assert.equal(zipped.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal(zipped.headers.get("content-encoding"), "gzip");
      // fetch undoes the gzip itself: the bytes are the committed file's.
      assert.ok(Buffer.from(await zipped.arrayBuffer()).equals(committed));
      const plain = await fetch(`${url}/_ui/${name}`, { headers: { "accept-encoding": "identity" } });
      assert.equal(plain.headers.get("content-encoding"), null);
      assert.equal(Number(plain.headers.get("content-length")), committed.byteLength);
      await plain.arrayBuffer();
      const again = await fetch(`${url}/_ui/${name}`, {
        headers: { "if-none-match": zipped.headers.get("etag")! },
      });
      assert.equal(again.status, 304);
    }
  });

  it("answers a DAG's grid in columns, all runs or those in a range", async () => {
    const hour = 3_600_000;
    const t0 = Date.parse("2021-09-22T00:00:00Z");
    const now = Date.now();
    for (let h = 0; h < 3; h += 1) {
      const created = await s.runtime.metadata.createRun(
        {
          dagId: demoDagId,
          runType: h === 2 ? "backfill" : "scheduled",
          interval: { start: t0 + h * hour, end: t0 + (h + 1) * hour },
          tasks: [{ taskId: "ts_query" }],
        },
        now,
      );
      assert.ok(created.created);
      if (h === 0) await s.runtime.metadata.setRunState(created.run.id, { to: "failed" }, now);
    }
    const all = (await (await fetch(`${url}/api/v1/dags/${demoDagId}/grid`)).json()) as {
      tasks: string[];
      stateCodes: Record<string, string>;
      runs: { runId: string[]; start: number[]; end: number[]; state: string; type: string; tasks: string[] };
    };
    assert.deepEqual(all.tasks, ["ts_query"]);
    assert.deepEqual(all.runs.runId, [
      "scheduled__2021-09-22T00:00:00+00:00",
      "scheduled__2021-09-22T01:00:00+00:00",
      "backfill__2021-09-22T02:00:00+00:00",
    ]);
    assert.deepEqual(all.runs.start, [t0, t0 + hour, t0 + 2 * hour]);
    assert.equal(all.runs.state, "fqq");
    assert.equal(all.runs.type, "ssb");
    assert.deepEqual(all.runs.tasks, ["n", "n", "n"]);
    assert.equal(all.stateCodes["f"], "failed");

    const window = (await (
      await fetch(`${url}/api/v1/dags/${demoDagId}/grid?from=2021-09-22T01:00:00Z&to=2021-09-22T03:00:00Z`)
    ).json()) as { runs: { runId: string[] } };
    assert.equal(window.runs.runId.length, 2);
  });

  it("refuses a bad range and an unknown DAG with a clear error", async () => {
    const bad = await fetch(`${url}/api/v1/dags/${demoDagId}/grid?from=yesterday`);
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /from must be an ISO 8601 time/,
    );
    const reversed = await fetch(`${url}/api/v1/dags/${demoDagId}/grid?from=2021-09-23&to=2021-09-22`);
    assert.equal(reversed.status, 400);
    assert.match(((await reversed.json()) as { error: { message: string } }).error.message, /is after to/);
    const unknown = await fetch(`${url}/api/v1/dags/nope/grid`);
    assert.equal(unknown.status, 404);
  });

  it("counts workflow events in /changes, so pages know when to fetch again", async () => {
    const before = ((await (await fetch(`${url}/api/v1/changes`)).json()) as { version: string }).version;
    s.runtime.events.emit("dags:loaded", { dagIds: [], importErrors: 0 });
    const after = ((await (await fetch(`${url}/api/v1/changes`)).json()) as { version: string }).version;
    assert.notEqual(after, before);
    assert.equal(after.split("-")[0], before.split("-")[0], "the same boot");
  });

  it("counts changes made through the API too, and the grid follows them (its cache is per change)", async () => {
    const version = async () =>
      ((await (await fetch(`${url}/api/v1/changes`)).json()) as { version: string }).version;
    const gridState = async () =>
      ((await (await fetch(`${url}/api/v1/dags/${demoDagId}/grid`)).json()) as { runs: { state: string } })
        .runs.state;
    const first = await gridState();
    assert.equal(await gridState(), first, "the same answer while nothing changes");
    const before = await version();
    const response = await fetch(
      `${url}/api/v1/dags/${demoDagId}/runs/${encodeURIComponent("scheduled__2021-09-22T01:00:00+00:00")}`,
      {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ state: "success" }),
      },
    );
    assert.equal(response.status, 200);
    assert.notEqual(await version(), before);
    assert.equal(await gridState(), `${first[0]}s${first.slice(2)}`);
    const paused = await version();
    assert.equal((await fetch(`${url}/api/v1/dags/${demoDagId}/pause`, { method: "POST" })).status, 200);
    assert.notEqual(await version(), paused, "a pause emits no event but counts");
    const refused = await version();
    assert.equal((await fetch(`${url}/api/v1/dags/nope/pause`, { method: "POST" })).status, 404);
    assert.notEqual(
      await version(),
      refused,
      "a refused change counts too (it may have done part of its work)",
    );
  });
});
