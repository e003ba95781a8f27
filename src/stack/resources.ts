/**
 * The stack file as a list of resources, each with the properties it should have, the references
 * it makes (and where in the file), and its ARN in AWS's shape with the file's account and region.
 */
import { type PathSegment, problemsError, type SourceMap, where } from "./parse.js";
import type { PolicyDocument, StackFile } from "./schema.js";

export const resourceKinds = [
  "database",
  "table",
  "bucket",
  "stream",
  "connector",
  "policy",
  "role",
  "principal",
  "dag",
] as const;
export type ResourceKind = (typeof resourceKinds)[number];

/** Kinds whose only record is the stack state (the policy engine reads them from there). */
export const accessKinds: ReadonlySet<ResourceKind> = new Set(["policy", "role", "principal", "dag"]);

export type Properties = Record<string, unknown>;

export interface Reference {
  /** `kind/name` of the resource referred to. */
  target: string;
  path: PathSegment[];
}

export interface DesiredResource {
  /** `kind/name`, e.g. `table/airflow-db/airflow-table`: unique in a stack, used by `dependsOn`. */
  id: string;
  kind: ResourceKind;
  name: string;
  properties: Properties;
  references: Reference[];
  /** Where it is declared (`resources.tables[0]`), for messages. */
  path: PathSegment[];
  arn: string | null;
}

export const resourceId = (kind: ResourceKind, name: string): string => `${kind}/${name}`;

/** What each kind lives under in the file. */
const sectionOf: Record<ResourceKind, keyof StackFile["resources"]> = {
  database: "databases",
  table: "tables",
  bucket: "buckets",
  stream: "streams",
  connector: "connectors",
  policy: "policies",
  role: "roles",
  principal: "principals",
  dag: "dags",
};

export function arnOf(
  kind: ResourceKind,
  name: string,
  spec: Pick<StackFile, "account" | "region">,
): string | null {
  const { account, region } = spec;
  switch (kind) {
    case "database":
      return `arn:aws:timestream:${region}:${account}:database/${name}`;
    case "table": {
      const [database, table] = splitTableName(name);
      return `arn:aws:timestream:${region}:${account}:database/${database}/table/${table}`;
    }
    case "bucket":
      return `arn:aws:s3:::${name}`;
    case "stream":
      return `arn:aws:kinesis:${region}:${account}:stream/${name}`;
    case "policy":
      return `arn:aws:iam::${account}:policy/${name}`;
    case "role":
      return `arn:aws:iam::${account}:role/${name}`;
    case "principal":
      return `arn:aws:iam::${account}:user/${name}`;
    default:
      return null;
  }
}

/** A table's name in a stack is `database/table`. */
export function splitTableName(name: string): [string, string] {
  const slash = name.indexOf("/");
  return [name.slice(0, slash), name.slice(slash + 1)];
}

/** Resource patterns of a document's statements (NotResource names nothing in particular). */
function resourcePatterns(document: PolicyDocument): string[] {
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  return statements.flatMap((s) =>
    s.Resource === undefined ? [] : Array.isArray(s.Resource) ? s.Resource : [s.Resource],
  );
}

/** IAM's wildcards: `*` any run of characters, `?` one. */
function wildcardMatches(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(value);
}

/**
 * Whether a policy's Resource names this ARN or something inside it (`arn:aws:s3:::b/*` names
 * bucket b's objects, so the policy comes after the bucket). A bare `*` names nothing in particular.
 */
export function patternNames(pattern: string, arn: string): boolean {
  if (pattern === "*") return false;
  if (wildcardMatches(pattern, arn)) return true;
  const literal = pattern.split(/[*?]/)[0] ?? "";
  return literal.startsWith(`${arn}/`);
}

/** Turns the file into resources, checking that names are unique and every reference resolves. */
export function desiredResources(spec: StackFile, source: SourceMap): DesiredResource[] {
  const list: DesiredResource[] = [];
  const r = spec.resources;
  const add = (
    kind: ResourceKind,
    index: number,
    name: string,
    properties: Properties,
    references: Reference[],
    dependsOn: string[] | undefined,
  ) => {
    const path: PathSegment[] = ["resources", sectionOf[kind], index];
    const explicit = (dependsOn ?? []).map((target, i) => ({ target, path: [...path, "dependsOn", i] }));
    list.push({
      id: resourceId(kind, name),
      kind,
      name,
      properties,
      references: [...references, ...explicit],
      path,
      arn: arnOf(kind, name, spec),
    });
  };
  for (const [i, d] of r.databases.entries()) add("database", i, d.name, {}, [], d.dependsOn);
  r.tables.forEach((t, i) => {
    const path: PathSegment[] = ["resources", "tables", i];
    add(
      "table",
      i,
      `${t.database}/${t.name}`,
      {
        // Timestream's defaults, so a table made without them is not seen as drifted.
        memoryHours: t.retention?.memoryHours ?? 6,
        magneticDays: t.retention?.magneticDays ?? 73000,
        magneticWrites: t.magneticWrites ?? false,
      },
      [{ target: resourceId("database", t.database), path: [...path, "database"] }],
      t.dependsOn,
    );
  });
  for (const [i, b] of r.buckets.entries()) add("bucket", i, b.name, {}, [], b.dependsOn);
  for (const [i, s] of r.streams.entries()) {
    add("stream", i, s.name, { shards: s.shards, retentionHours: s.retentionHours ?? 24 }, [], s.dependsOn);
  }
  r.connectors.forEach((c, i) => {
    const path: PathSegment[] = ["resources", "connectors", i];
    add(
      "connector",
      i,
      c.name,
      {
        stream: c.stream,
        database: c.database,
        table: c.table,
        mapping: c.mapping ?? "single",
        ...(c.from === undefined ? {} : { from: c.from }),
      },
      [
        { target: resourceId("stream", c.stream), path: [...path, "stream"] },
        { target: resourceId("table", `${c.database}/${c.table}`), path: [...path, "table"] },
      ],
      c.dependsOn,
    );
  });
  // Data resources first, so a policy can be ordered after the ones its ARNs name.
  const dataResources = [...list];
  r.policies.forEach((p, i) => {
    const path: PathSegment[] = ["resources", "policies", i];
    const named = dataResources.filter(
      (d) => d.arn !== null && resourcePatterns(p.document).some((pattern) => patternNames(pattern, d.arn!)),
    );
    add(
      "policy",
      i,
      p.name,
      { document: p.document, ...(p.description === undefined ? {} : { description: p.description }) },
      named.map((d) => ({ target: d.id, path: [...path, "document"] })),
      p.dependsOn,
    );
  });
  r.roles.forEach((role, i) => {
    add(
      "role",
      i,
      role.name,
      {
        policies: role.policies,
        ...(role.description === undefined ? {} : { description: role.description }),
      },
      role.policies.map((p, j) => ({
        target: resourceId("policy", p),
        path: ["resources", "roles", i, "policies", j],
      })),
      role.dependsOn,
    );
  });
  r.principals.forEach((p, i) => {
    const path: PathSegment[] = ["resources", "principals", i];
    add(
      "principal",
      i,
      p.name,
      { kind: p.kind, role: p.role ?? null, policies: p.policies ?? [], keys: p.keys },
      [
        ...(p.role === undefined ? [] : [{ target: resourceId("role", p.role), path: [...path, "role"] }]),
        ...(p.policies ?? []).map((name, j) => ({
          target: resourceId("policy", name),
          path: [...path, "policies", j],
        })),
      ],
      p.dependsOn,
    );
  });
  r.dags.forEach((d, i) => {
    add(
      "dag",
      i,
      d.dag,
      { role: d.role },
      [{ target: resourceId("role", d.role), path: ["resources", "dags", i, "role"] }],
      d.dependsOn,
    );
  });

  const problems: string[] = [];
  const seen = new Map<string, DesiredResource>();
  for (const resource of list) {
    const first = seen.get(resource.id);
    if (first) {
      problems.push(
        `${where(source, resource.path)}: ${resource.kind} ${resource.name} is declared twice (first at ${where(source, first.path)})`,
      );
    } else seen.set(resource.id, resource);
  }
  for (const resource of list) {
    for (const reference of resource.references) {
      if (seen.has(reference.target)) continue;
      const [kind] = reference.target.split("/") as [string];
      const known = (resourceKinds as readonly string[]).includes(kind);
      problems.push(
        known
          ? `${where(source, reference.path)}: no ${reference.target.replace("/", " named ")} in this file: declare it under resources.${sectionOf[kind as ResourceKind]} (with --adopt if it exists already)`
          : `${where(source, reference.path)}: "${reference.target}" is not a resource reference: write kind/name, kind one of ${resourceKinds.join(", ")}`,
      );
    }
  }
  if (problems.length > 0) throw problemsError(source.file, problems);
  return list;
}
