/** defineRoute (src/api/openapi): the checks it makes of specs and requests, through Hono's app.request. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Hono } from "hono";
import { z } from "zod";
import { HTTP_STATUS, restErrorBody } from "../../src/api/errors.js";
import { defineRoute, openApiDocument, routeSpecOf } from "../../src/api/openapi/index.js";
import { toHourglassError } from "../../src/errors.js";

function appWith(define: (app: Hono) => void): Hono {
  const routes = new Hono();
  define(routes);
  const app = new Hono();
  app.route("/api/v1", routes);
  app.onError((thrown, c) => {
    const error = toHourglassError(thrown);
    return c.json(restErrorBody(error), HTTP_STATUS[error.code] as 400);
  });
  return app;
}

const ok = { 200: { description: "fine" } };

describe("defineRoute", () => {
  it("refuses a spec it could not document truthfully, naming the route", () => {
    const app = new Hono();
    assert.throws(
      () =>
        defineRoute(app, { method: "get", path: "/things/:id", tag: "t", summary: "s", responses: ok }, (c) =>
          c.body(null),
        ),
      /GET \/things\/:id: params must be a z\.object with exactly the path's parameters \(id\)/,
    );
    assert.throws(
      () =>
        defineRoute(
          app,
          {
            method: "get",
            path: "/things/:id",
            tag: "t",
            summary: "s",
            params: z.object({ name: z.string() }),
            responses: ok,
          },
          (c) => c.body(null),
        ),
      /exactly the path's parameters \(id\)/,
    );
    assert.throws(
      () =>
        defineRoute(
          app,
          { method: "get", path: "/things", tag: "t", summary: "s", query: z.string(), responses: ok },
          (c) => c.body(null),
        ),
      /query must be a z\.object/,
    );
    assert.throws(
      () =>
        defineRoute(
          app,
          {
            method: "put",
            path: "/things",
            tag: "t",
            summary: "s",
            body: z.object({}),
            rawBody: { contentType: "text/csv", description: "d" },
            responses: ok,
          },
          (c) => c.body(null),
        ),
      /a JSON body or a raw body, not both/,
    );
    assert.equal(app.routes.length, 0, "nothing was mounted");
  });

  it("checks params, query and body, and names every field that is wrong", async () => {
    const seen: unknown[] = [];
    const app = appWith((routes) =>
      defineRoute(
        routes,
        {
          method: "post",
          path: "/things/:id",
          tag: "Things",
          summary: "make a thing",
          params: z.object({ id: z.string().regex(/^\d+$/, "id must be digits") }),
          query: z.strictObject({ dry: z.enum(["true", "false"]).optional() }),
          body: z.object({
            size: z.number().int(),
            from: z.string({ error: "from and to are required" }),
            to: z.string({ error: "from and to are required" }),
            inner: z.object({ colour: z.enum(["red", "blue"]) }).optional(),
          }),
          responses: { 201: { description: "made", schema: z.object({ ok: z.boolean() }) } },
        },
        (c, input) => {
          seen.push(input);
          return c.json({ ok: true }, 201);
        },
      ),
    );
    const post = async (route: string, body: string) => {
      const response = await app.request(`/api/v1${route}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      return { status: response.status, body: (await response.json()) as { error?: { message: string } } };
    };
    const good = await post("/things/7?dry=true", JSON.stringify({ size: 3, from: "a", to: "b" }));
    assert.equal(good.status, 201);
    assert.deepEqual(seen, [
      { params: { id: "7" }, query: { dry: "true" }, body: { size: 3, from: "a", to: "b" } },
    ]);

    const cases: [string, string, RegExp][] = [
      ["/things/x", JSON.stringify({ size: 3, from: "a", to: "b" }), /^invalid path: id must be digits$/],
      [
        "/things/7?wet=1",
        JSON.stringify({ size: 3, from: "a", to: "b" }),
        /^invalid query: query: Unrecognized key: "wet"$/,
      ],
      ["/things/7", "{", /^the request body must be JSON$/],
      ["/things/7", "[]", /^the request body must be a JSON object$/],
      ["/things/7", "", /^invalid request body: size: .*expected number.*; from and to are required$/],
      [
        "/things/7",
        JSON.stringify({ size: 1.5, from: "a", to: "b", inner: { colour: "green" } }),
        /^invalid request body: size: .*int.*; inner\.colour: .*"red"\|"blue"/,
      ],
    ];
    for (const [route, body, message] of cases) {
      const answer = await post(route, body);
      assert.equal(answer.status, 400, `${route} ${body}`);
      assert.match(answer.body.error?.message ?? "", message, `${route} ${body}`);
    }
    assert.equal(seen.length, 1, "the handler never saw a refused request");
  });

  it("leaves its spec on the mounted handler, where the document finds it", () => {
    const app = appWith((routes) =>
      defineRoute(
        routes,
        {
          method: "get",
          path: "/files/:bucket/:key{.+}",
          tag: "Files",
          summary: "a file",
          params: z.object({ bucket: z.string(), key: z.string() }),
          responses: { 200: { description: "its bytes", contentType: "application/octet-stream" } },
          answersHead: true,
        },
        (c) => c.body(null),
      ),
    );
    const mounted = app.routes.find((r) => r.path === "/api/v1/files/:bucket/:key{.+}");
    assert.equal(routeSpecOf(mounted?.handler)?.summary, "a file");
    const doc = openApiDocument(app.routes, "v1");
    const item = doc.paths["/api/v1/files/{bucket}/{key}"];
    assert.deepEqual(Object.keys(item ?? {}), ["get", "head"]);
    assert.deepEqual(
      item?.["get"]?.parameters?.map((p) => [p.name, p.in, p.required]),
      [
        ["bucket", "path", true],
        ["key", "path", true],
      ],
    );
    assert.deepEqual(Object.keys(item?.["get"]?.responses ?? {}), ["200", "400", "default"]);
    assert.deepEqual(doc.tags, [{ name: "Files" }]);
  });
});
