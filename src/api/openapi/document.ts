/**
 * The OpenAPI 3.1 document of the REST API, built from the routes an app has mounted: each
 * handler defineRoute made carries its spec, whose zod schemas become JSON Schema 2020-12 (the
 * dialect OpenAPI 3.1 uses) through z.toJSONSchema. Schemas named with `.meta({ id })` become
 * components and are referenced; the rest are inlined where they are used.
 */
import { z } from "zod";
import { type AnyRouteSpec, pathParameterNames, type ResponseSpec, routeSpecOf } from "./define-route.js";
import { documentedAs, errorBodySchema } from "./schemas.js";

type JsonSchema = Record<string, unknown>;

/** What the document needs of a mounted route: Hono's `app.routes` entries fit. */
export interface MountedRoute {
  method: string;
  path: string;
  handler: unknown;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema> };
}

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters?: ParameterObject[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, ResponseObject>;
}

export interface ParameterObject {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
}

const componentPrefix = "#/components/schemas/";

/** A route whose spec says `:key{.+}` is `{key}` in OpenAPI's path templates. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(?:\{[^}]*\})?/g, "{$1}");
}

export function openApiDocument(routes: readonly MountedRoute[], version: string): OpenApiDocument {
  const schemas = new SchemaConverter();
  const paths: OpenApiDocument["paths"] = {};
  const tags: string[] = [];
  for (const route of routes) {
    const spec = routeSpecOf(route.handler);
    if (!spec) continue;
    const path = openApiPath(route.path);
    paths[path] ??= {};
    const item = paths[path];
    item[spec.method] = operation(spec, route.path, schemas);
    if (spec.answersHead) item["head"] = headOperation(item[spec.method] as OperationObject);
    if (!tags.includes(spec.tag)) tags.push(spec.tag);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Hourglass REST API",
      version,
      description:
        "The REST API of `hourglass up` (docs/api.md). The AWS-compatible endpoints (Timestream, Kinesis, S3 at `/`) are AWS's APIs and are described by AWS's own documentation, not here.",
    },
    tags: tags.map((name) => ({ name })),
    paths,
    components: { schemas: schemas.components },
  };
}

function operation(spec: AnyRouteSpec, honoPath: string, schemas: SchemaConverter): OperationObject {
  const parameters: ParameterObject[] = [];
  if (spec.params)
    parameters.push(...objectParameters(spec.params, "path", schemas, pathParameterNames(honoPath)));
  if (spec.query) parameters.push(...objectParameters(spec.query, "query", schemas));
  for (const [name, description] of Object.entries(spec.headers ?? {})) {
    parameters.push({ name, in: "header", required: false, description, schema: { type: "string" } });
  }
  const responses: Record<string, ResponseObject> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = responseObject(response, schemas);
  }
  const errorContent = { "application/json": { schema: schemas.convert(errorBodySchema) } };
  if (spec.params || spec.query || spec.body) {
    responses["400"] = {
      description: "the request failed its schema (the message names each field) or the service's checks",
      content: errorContent,
    };
  }
  for (const [status, description] of Object.entries(spec.errors ?? {})) {
    responses[status] = { description, content: errorContent };
  }
  responses["default"] = {
    description: "any other failure: 403/421 (guards), 413 (body too large), 415 (not JSON), 500 (internal)",
    content: errorContent,
  };
  const op: OperationObject = {
    operationId: operationId(spec.method, honoPath),
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    responses,
  };
  if (spec.body) {
    const schema = schemas.convert(spec.body);
    // An empty body reads as {}: the body is optional exactly when {} would pass.
    const requiredFields = (schemas.resolve(schema)["required"] ?? []) as string[];
    op.requestBody = { required: requiredFields.length > 0, content: { "application/json": { schema } } };
  } else if (spec.rawBody) {
    op.requestBody = {
      required: true,
      description: spec.rawBody.description,
      content: { [spec.rawBody.contentType]: { schema: {} } },
    };
  }
  return op;
}

/** HEAD answers as GET without a body. */
function headOperation(get: OperationObject): OperationObject {
  const responses: Record<string, ResponseObject> = {};
  for (const [status, response] of Object.entries(get.responses)) {
    responses[status] = {
      description: `${response.description} (no body)`,
      ...(response.headers ? { headers: response.headers } : {}),
    };
  }
  return {
    ...get,
    operationId: get.operationId.replace(/^get/, "head"),
    summary: `${get.summary}: headers only`,
    responses,
  };
}

function responseObject(response: ResponseSpec, schemas: SchemaConverter): ResponseObject {
  const headers = Object.entries(response.headers ?? {});
  return {
    description: response.description,
    ...(headers.length > 0
      ? {
          headers: Object.fromEntries(
            headers.map(([name, description]) => [name, { description, schema: { type: "string" } }]),
          ),
        }
      : {}),
    ...(response.schema
      ? { content: { "application/json": { schema: schemas.convert(response.schema) } } }
      : response.contentType
        ? { content: { [response.contentType]: { schema: {} } } }
        : {}),
  };
}

/** One parameter per property of a z.object (path parameters in the path's order). */
function objectParameters(
  schema: z.ZodType,
  where: "path" | "query",
  schemas: SchemaConverter,
  order?: string[],
): ParameterObject[] {
  const json = schemas.convert(schema);
  const properties = (json["properties"] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json["required"] ?? []) as string[]);
  const names = order ?? Object.keys(properties);
  return names.map((name) => {
    const { description, ...rest } = properties[name] ?? {};
    return {
      name,
      in: where,
      required: where === "path" || required.has(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
    };
  });
}

/** `GET /api/v1/databases/:db/tables` → `getDatabasesByDbTables`: unique, stable, readable enough. */
function operationId(method: string, honoPath: string): string {
  const words = honoPath
    .replace(/^\/api\/v1/, "")
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => {
      const param = /^:([A-Za-z0-9_]+)/.exec(segment);
      return param
        ? `By${capitalise(param[1] as string)}`
        : segment
            .split(/[^A-Za-z0-9]+/)
            .map(capitalise)
            .join("");
    });
  return method + words.join("");
}

const capitalise = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** Converts zod schemas to JSON Schema, gathering the named ones as components. */
class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      // Requests are checked on their input side; responses have no transforms, so both agree.
      io: "input",
      // Dates and bigints never reach JSON as such: they are documented by their JSON form.
      unrepresentable: "any",
      override: (ctx) => {
        const shown = documentedAs(ctx.zodSchema as unknown as z.ZodType);
        if (!shown) return;
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonSchema)[key];
        Object.assign(ctx.jsonSchema, z.toJSONSchema(shown, { target: "draft-2020-12", io: "input" }));
      },
    }) as JsonSchema;
    return this.#hoist(json);
  }

  /** The schema a top-level `$ref` points to (components are filled by convert). */
  resolve(schema: JsonSchema): JsonSchema {
    const ref = schema["$ref"];
    return typeof ref === "string" ? (this.components[ref.slice(componentPrefix.length)] ?? {}) : schema;
  }

  /** Moves every `$defs` entry to the components, points `$ref`s there, drops `$schema`. */
  #hoist(node: JsonSchema): JsonSchema {
    const out: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$schema" || key === "documentedAs") continue;
      // zod writes the safe-integer bounds of every .int(): noise for a reader, no news for a client.
      if (key === "minimum" && value === Number.MIN_SAFE_INTEGER) continue;
      if (key === "maximum" && value === Number.MAX_SAFE_INTEGER) continue;
      if (key === "$defs") {
        for (const [name, def] of Object.entries(value as Record<string, JsonSchema>)) {
          this.components[name] = this.#hoist(def);
        }
        continue;
      }
      if (key === "$ref" && typeof value === "string" && value.startsWith("#/$defs/")) {
        out[key] = componentPrefix + value.slice("#/$defs/".length);
        continue;
      }
      out[key] = hoistValue(value, (child) => this.#hoist(child));
    }
    return out;
  }
}

function hoistValue(value: unknown, hoist: (node: JsonSchema) => JsonSchema): unknown {
  if (Array.isArray(value)) return value.map((item) => hoistValue(item, hoist));
  if (value !== null && typeof value === "object") return hoist(value as JsonSchema);
  return value;
}
