/**
 * `GET /api/v1/openapi.json` (the OpenAPI 3.1 document) and `GET /api/v1/docs` (the reference
 * page), over the routes the app has mounted when they are asked: routes that `hourglass up`
 * mounts after createApp (workflows, connectors, exports, lake) are in them too.
 */
import { Hono } from "hono";
import { z } from "zod";
import { defineRoute } from "./define-route.js";
import { type MountedRoute, type OpenApiDocument, openApiDocument } from "./document.js";
import { renderReferencePage } from "./reference-page.js";

/** The version of the document: the API's, as in its path. */
const apiVersion = "v1";

const documentSchema = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
    components: z.looseObject({}),
  })
  .describe("an OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)");

export function referenceRoutes(mountedRoutes: () => readonly MountedRoute[]): Hono {
  const app = new Hono();
  // Built again only when routes were added since (the app is complete once the server listens).
  let cached: { routeCount: number; document: OpenApiDocument } | null = null;
  const currentDocument = (): OpenApiDocument => {
    const routes = mountedRoutes();
    if (cached?.routeCount !== routes.length) {
      cached = { routeCount: routes.length, document: openApiDocument(routes, apiVersion) };
    }
    return cached.document;
  };

  defineRoute(
    app,
    {
      method: "get",
      path: "/openapi.json",
      tag: "Reference",
      summary: "This API's OpenAPI 3.1 document",
      description:
        "Generated from the zod schemas that validate each route. The AWS-compatible endpoints are not in it: they are AWS's APIs.",
      responses: { 200: { description: "the document", schema: documentSchema } },
    },
    (c) => c.json(currentDocument()),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/docs",
      tag: "Reference",
      summary: "The reference page: this document, browsable",
      responses: { 200: { description: "a self-contained HTML page (no script)", contentType: "text/html" } },
    },
    (c) => {
      // The page needs nothing but its own inline styles.
      c.header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'");
      return c.html(renderReferencePage(currentDocument()));
    },
  );
  return app;
}
