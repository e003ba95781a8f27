/**
 * The browsable reference of the REST API (`GET /api/v1/docs`): one self-contained HTML page
 * rendered on the server from the OpenAPI document, with no script and nothing fetched from
 * elsewhere. Operations are grouped by tag; schemas are listed at the end and linked from every
 * place that refers to them.
 */
import type { OpenApiDocument, OperationObject, ParameterObject } from "./document.js";

type JsonSchema = Record<string, unknown>;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const schemaAnchor = (name: string): string => `schema-${name}`;

export function renderReferencePage(doc: OpenApiDocument): string {
  const byTag = new Map<string, { method: string; path: string; op: OperationObject }[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags[0] ?? "Other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)?.push({ method, path, op });
    }
  }
  const nav = [...byTag]
    .map(
      ([tag, ops]) =>
        `<li><a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a> <span class="count">${ops.length}</span></li>`,
    )
    .join("");
  const sections = [...byTag]
    .map(
      ([tag, ops]) =>
        `<section id="tag-${escapeHtml(tag)}"><h2>${escapeHtml(tag)}</h2>${ops.map((o) => operationHtml(o.method, o.path, o.op)).join("")}</section>`,
    )
    .join("");
  const schemas = Object.entries(doc.components.schemas)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([name, schema]) =>
        `<section class="schema" id="${schemaAnchor(escapeHtml(name))}"><h3>${escapeHtml(name)}</h3>${schemaHtml(schema)}</section>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)}</title>
<style>${styles}</style>
</head>
<body>
<nav aria-label="Sections">
<h1>${escapeHtml(doc.info.title)}</h1>
<p>OpenAPI ${escapeHtml(doc.openapi)} · <a href="openapi.json">openapi.json</a></p>
<ul>${nav}<li><a href="#schemas">Schemas</a> <span class="count">${Object.keys(doc.components.schemas).length}</span></li></ul>
</nav>
<main>
<p class="intro">${escapeHtml(doc.info.description)}</p>
${sections}
<section id="schemas"><h2>Schemas</h2>${schemas}</section>
</main>
</body>
</html>
`;
}

function operationHtml(method: string, path: string, op: OperationObject): string {
  const params = op.parameters ?? [];
  const body = op.requestBody;
  return `<article class="op" id="${escapeHtml(op.operationId)}">
<h3><a href="#${escapeHtml(op.operationId)}"><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></a></h3>
<p>${escapeHtml(op.summary)}</p>
${op.description ? `<p class="description">${escapeHtml(op.description)}</p>` : ""}
${params.length > 0 ? parametersHtml(params) : ""}
${
  body
    ? `<h4>Request body</h4>${body.description ? `<p>${escapeHtml(body.description)}</p>` : ""}${Object.entries(
        body.content,
      )
        .map(([type, { schema }]) => `<p class="media">${escapeHtml(type)}</p>${schemaHtml(schema)}`)
        .join("")}`
    : ""
}
<h4>Responses</h4>
<table class="responses"><tbody>${Object.entries(op.responses)
    .map(
      ([status, response]) =>
        `<tr><th scope="row" class="status s${escapeHtml(status.charAt(0))}">${escapeHtml(status)}</th><td>${escapeHtml(response.description)}${Object.entries(
          response.content ?? {},
        )
          .map(([type, { schema }]) =>
            type === "application/json" ? schemaHtml(schema) : `<p class="media">${escapeHtml(type)}</p>`,
          )
          .join("")}</td></tr>`,
    )
    .join("")}</tbody></table>
</article>`;
}

function parametersHtml(params: ParameterObject[]): string {
  return `<h4>Parameters</h4><table class="params"><thead><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr></thead><tbody>${params
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? ' <span class="req" title="required">*</span>' : ""}</td><td>${p.in}</td><td>${typeHtml(p.schema)}</td><td>${escapeHtml(p.description ?? "")}</td></tr>`,
    )
    .join("")}</tbody></table>`;
}

/** A schema as a table of its properties (objects) or one line (everything else). */
function schemaHtml(schema: JsonSchema): string {
  const properties = schema["properties"] as Record<string, JsonSchema> | undefined;
  if (!properties || Object.keys(properties).length === 0) return `<p class="type">${typeHtml(schema)}</p>`;
  const required = new Set((schema["required"] ?? []) as string[]);
  const rows = Object.entries(properties)
    .map(([name, property]) => {
      const nested = property["properties"] as Record<string, JsonSchema> | undefined;
      const items = property["items"] as JsonSchema | undefined;
      const inner =
        nested && Object.keys(nested).length > 0
          ? property
          : items?.["properties"] && Object.keys(items["properties"] as object).length > 0
            ? items
            : null;
      return `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' <span class="req" title="required">*</span>' : ""}</td><td>${typeHtml(property)}${inner ? `<details><summary>fields</summary>${schemaHtml(inner)}</details>` : ""}</td></tr>`;
    })
    .join("");
  const description =
    typeof schema["description"] === "string" ? `<p>${escapeHtml(schema["description"])}</p>` : "";
  return `${description}<table class="fields"><tbody>${rows}</tbody></table>`;
}

/** One line: the type, its constraints and description; `$ref`s link to the schema. */
function typeHtml(schema: JsonSchema): string {
  const parts: string[] = [];
  const ref = schema["$ref"];
  if (typeof ref === "string") {
    const name = ref.replace("#/components/schemas/", "");
    parts.push(`<a href="#${schemaAnchor(escapeHtml(name))}">${escapeHtml(name)}</a>`);
  } else if (Array.isArray(schema["enum"])) {
    parts.push(
      `one of ${(schema["enum"] as unknown[]).map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(" | ")}`,
    );
  } else if ("const" in schema) {
    parts.push(`<code>${escapeHtml(JSON.stringify(schema["const"]))}</code>`);
  } else if (Array.isArray(schema["anyOf"]) || Array.isArray(schema["oneOf"])) {
    const options = (schema["anyOf"] ?? schema["oneOf"]) as JsonSchema[];
    parts.push(options.map(typeHtml).join(" or "));
  } else if (schema["type"] === "array") {
    parts.push(`array of ${typeHtml((schema["items"] ?? {}) as JsonSchema)}`);
  } else if (schema["type"] !== undefined) {
    const type = schema["type"];
    parts.push(escapeHtml(Array.isArray(type) ? type.join(" or ") : String(type)));
  } else {
    parts.push("any");
  }
  const constraints: string[] = [];
  for (const key of [
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "default",
  ]) {
    if (schema[key] !== undefined) constraints.push(`${key} ${escapeHtml(JSON.stringify(schema[key]))}`);
  }
  if (constraints.length > 0) parts.push(`<span class="constraints">${constraints.join(", ")}</span>`);
  if (typeof schema["description"] === "string" && schema["properties"] === undefined) {
    parts.push(`<span class="description">${escapeHtml(schema["description"])}</span>`);
  }
  return parts.join(" ");
}

const styles = `
:root { color-scheme: light dark; --fg: #1d2125; --bg: #fff; --muted: #5c6670; --line: #d8dde2; --code: #f3f5f7; --link: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ea; --bg: #15181b; --muted: #9aa4ad; --line: #33393f; --code: #1f2327; --link: #6cb2ff; } }
* { box-sizing: border-box; }
body { margin: 0; display: flex; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
nav { position: sticky; top: 0; align-self: flex-start; height: 100vh; overflow: auto; width: 16rem; padding: 1rem; border-right: 1px solid var(--line); }
nav h1 { font-size: 1.1rem; margin: 0 0 .5rem; }
nav ul { list-style: none; padding: 0; }
nav li { margin: .2rem 0; }
main { flex: 1; min-width: 0; padding: 1rem 2rem; }
a { color: var(--link); }
a:focus-visible { outline: 2px solid var(--link); outline-offset: 2px; }
.count, .constraints, .description, .media, .intro { color: var(--muted); }
.op { border-top: 1px solid var(--line); padding: .5rem 0 1rem; }
.op h3 a { color: inherit; text-decoration: none; }
code { background: var(--code); padding: 0 .25rem; border-radius: 3px; }
.method { display: inline-block; min-width: 4.5rem; text-align: center; font-size: .8rem; padding: .1rem .4rem; border-radius: 3px; color: #fff; background: #5c6670; }
.method.get { background: #1f7a3f; } .method.post { background: #0b5cad; } .method.put, .method.patch { background: #8a5a00; }
.method.delete { background: #b3261e; } .method.head { background: #5c6670; }
table { border-collapse: collapse; margin: .25rem 0; }
th, td { text-align: left; vertical-align: top; padding: .2rem .6rem .2rem 0; border-bottom: 1px solid var(--line); }
.status.s2 { color: #1f7a3f; } .status.s4, .status.s5 { color: #b3261e; }
.req { color: #b3261e; }
details summary { cursor: pointer; color: var(--muted); }
.schema { border-top: 1px solid var(--line); }
@media (max-width: 50rem) { body { display: block; } nav { position: static; height: auto; width: auto; border-right: 0; } }
`;
