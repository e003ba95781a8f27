/**
 * One registry for the REST routes under /api/v1: `defineRoute` mounts a route on a Hono app,
 * checks each request with the route's zod schemas, and attaches the route's spec to its handler.
 * The OpenAPI document (document.ts) is built by walking the handlers the app really mounts, so
 * what is validated and what is documented are the same schemas and cannot drift.
 *
 *   const app = new Hono();
 *   defineRoute(app, {
 *     method: "post",
 *     path: "/things/:name",                       // Hono's syntax; `:key{.+}` works too
 *     tag: "Things",                               // groups operations in the reference page
 *     summary: "Create a thing",
 *     params: z.object({ name: z.string() }),      // required whenever the path has parameters
 *     query: z.object({ dry: z.enum(["true", "false"]).optional() }),
 *     body: z.object({ size: z.number().int() }),  // a JSON object; an empty body reads as {}
 *     responses: { 201: { description: "the thing", schema: thingSchema } },
 *     errors: { 409: "a thing of that name exists" },
 *   }, async (c, input) => c.json(await things.create(input.params.name, input.body), 201));
 *   parent.route("/api/v1", app);                  // mounted as any Hono sub-app
 *
 * A request that fails a schema is a 400 ValidationError naming each field: "invalid request
 * body: Records.0.Data: Data must be base64" (also "invalid query: …", "invalid path: …"); a
 * top-level field's message that names the field ("limit must be …") is not prefixed. A body that is not
 * JSON is "the request body must be JSON"; JSON that is not an object, "… must be a JSON object".
 * Every operation also documents 400 (when it reads input) and a default error answer (the
 * guards' 413/415/421/403, 500), all in the REST error shape ({ error: { code, message, context } }).
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { validationError } from "../../errors.js";

export type RouteMethod = "get" | "post" | "put" | "patch" | "delete";

export interface ResponseSpec {
  description: string;
  /** The JSON body; none for 204 and for content that is not JSON (see contentType). */
  schema?: z.ZodType;
  /** A body that is not JSON (an object's bytes): its media type, shown in the document. */
  contentType?: string;
  /** Response headers worth knowing, by name, with what they carry. */
  headers?: Record<string, string>;
}

export interface RouteSpec<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
> {
  method: RouteMethod;
  /** Relative to where the app is mounted (/api/v1), in Hono's syntax. */
  path: string;
  tag: string;
  summary: string;
  /** Markdown is not rendered: plain sentences. */
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** What the body is called in errors: "invalid <bodyLabel>: …" (default "request body"). */
  bodyLabel?: string;
  /** A body the handler streams itself (not JSON): documented, never read here. */
  rawBody?: { contentType: string; description: string };
  /** Request headers the route reads, by name, with what they do. */
  headers?: Record<string, string>;
  /** Success answers by status. */
  responses: Record<number, ResponseSpec>;
  /** Error answers by status, beyond 400 and the default, with when they happen. */
  errors?: Record<number, string>;
  /** A GET that HEAD reaches too (Hono answers HEAD with the GET route): documented as both. */
  answersHead?: boolean;
}

/** What a spec's schema turns into after validation (undefined when the route has none). */
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

/** Any spec, once its types are no longer needed (the document generator's view). */
export type AnyRouteSpec = RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/** Where a handler keeps its spec; document.ts reads it back from the mounted routes. */
const routeSpecKey = Symbol("hourglass.routeSpec");

/** The spec defineRoute attached to a mounted handler, or undefined for other handlers. */
export function routeSpecOf(handler: unknown): AnyRouteSpec | undefined {
  if (typeof handler !== "function") return undefined;
  return (handler as { [routeSpecKey]?: AnyRouteSpec })[routeSpecKey];
}

/** Hono's path syntax (`:name`, `:key{.+}`) to the names of its parameters. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)(?:\{[^}]*\})?/g)].map((m) => m[1] as string);
}

export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(
  app: Hono,
  spec: RouteSpec<P, Q, B>,
  handle: (c: Context, input: RouteInput<P, Q, B>) => Response | Promise<Response>,
): void {
  checkSpec(spec);
  const handler = async (c: Context) => {
    const input = {
      params: spec.params ? check(spec.params, c.req.param(), "path", "path") : undefined,
      query: spec.query ? check(spec.query, c.req.query(), "query", "query") : undefined,
      body: spec.body
        ? check(spec.body, await jsonObjectBody(c), spec.bodyLabel ?? "request body", "body")
        : undefined,
    } as RouteInput<P, Q, B>;
    return handle(c, input);
  };
  Object.defineProperty(handler, routeSpecKey, { value: spec });
  app.on(spec.method.toUpperCase(), spec.path, handler);
}

/** A spec that cannot be documented truthfully is a bug: refuse it when the routes are built. */
function checkSpec(spec: RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>) {
  const where = `${spec.method.toUpperCase()} ${spec.path}`;
  const names = pathParameterNames(spec.path);
  const declared = spec.params instanceof z.ZodObject ? Object.keys(spec.params.shape) : [];
  if (names.length > 0 || spec.params !== undefined) {
    if (!(spec.params instanceof z.ZodObject) || names.sort().join() !== declared.sort().join()) {
      throw new Error(
        `${where}: params must be a z.object with exactly the path's parameters (${names.join(", ") || "none"})`,
      );
    }
  }
  if (spec.query !== undefined && !(spec.query instanceof z.ZodObject)) {
    throw new Error(`${where}: query must be a z.object (each property is one query parameter)`);
  }
  if (spec.body !== undefined && spec.rawBody !== undefined) {
    throw new Error(`${where}: a route reads a JSON body or a raw body, not both`);
  }
}

async function jsonObjectBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  // Actions without options (pause, trigger with defaults) are sent without a body.
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw validationError("the request body must be JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw validationError("the request body must be a JSON object");
  }
  return body;
}

function check<S extends z.ZodType>(schema: S, value: unknown, what: string, whole: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationError(`invalid ${what}: ${describeIssues(parsed.error, whole)}`, {
    problems: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
  });
}

/**
 * `field.path: message; …`, each problem once; `whole: message` for a problem of the whole
 * object (an unknown key). A top-level field's message that names the field
 * ("limit must be …", "from and to are required") stands alone, so two fields with one message
 * give one line.
 */
export function describeIssues(error: z.ZodError, whole = "body"): string {
  const lines = error.issues.map((issue) => {
    const where = issue.path.map(String).join(".");
    // A problem of the whole (an unknown key) names what it is about: "body: Unrecognized key: …".
    if (where === "") return `${whole}: ${issue.message}`;
    if (issue.path.length === 1 && namesWord(issue.message, where)) return issue.message;
    return `${where}: ${issue.message}`;
  });
  return [...new Set(lines)].join("; ");
}

function namesWord(text: string, word: string): boolean {
  return new RegExp(`(^|[^\\w-])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w-])`).test(text);
}
