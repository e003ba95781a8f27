/**
 * The plan: for each resource, in dependency order, what apply would do and why, comparing three
 * things: the file (wanted), the stack's record (last applied) and the service (now). A field whose
 * value now differs from the record was changed by hand: that is drift, and the plan says so.
 */
import { differingFields, same } from "./compare.js";
import { accessKinds, type DesiredResource, type Properties, type ResourceKind } from "./resources.js";
import type { RecordedResource, StackState } from "./state.js";
import type { StackTarget } from "./target.js";

export type PlanAction =
  | "create" // not there: make it
  | "update" // there, some fields differ: change them in place
  | "replace" // there, differs, cannot change in place: delete and create (connectors)
  | "adopt" // there but not the stack's: --adopt takes it over (and updates it)
  | "delete" // the stack's, no longer in the file (or destroy)
  | "none" // as the file says
  | "conflict" // there but not the stack's, and no --adopt
  | "blocked"; // cannot be done as asked: the note says what to do

/** Actions that stop an apply before it starts. */
export const refusingActions: ReadonlySet<PlanAction> = new Set(["conflict", "blocked"]);

export interface FieldChange {
  field: string;
  /** The value now (undefined when the resource is missing). */
  from: unknown;
  to: unknown;
  /** The value last applied, when it differs from now: the field drifted. */
  drifted: boolean;
  recorded?: unknown;
}

export interface PlanItem {
  id: string;
  kind: ResourceKind;
  name: string;
  action: PlanAction;
  changes: FieldChange[];
  /** Why, in words: "deleted outside the stack", "holds data: add --force", … */
  notes: string[];
  /** What the file wants (absent for a delete). */
  properties?: Properties;
  recorded?: RecordedResource;
}

export interface Plan {
  stack: string;
  items: PlanItem[];
}

export interface PlanInput {
  stack: string;
  /** In dependency order; empty for destroy. */
  desired: readonly DesiredResource[];
  state: StackState | null;
  /** Owner stack of every resource recorded in the state folder. */
  owners: ReadonlyMap<string, string>;
  target: StackTarget;
  adopt: boolean;
  force: boolean;
  /** Whether access keys can be issued (the `hourglass keys` seam is wired in). */
  keysAvailable: boolean;
}

async function readNow(
  input: PlanInput,
  kind: ResourceKind,
  name: string,
  recorded: RecordedResource | undefined,
): Promise<Properties | null> {
  // Policies, roles, principals and DAG roles exist only in the stack records.
  if (accessKinds.has(kind)) return recorded?.properties ?? null;
  return input.target[kind as keyof StackTarget].read(name);
}

export async function makePlan(input: PlanInput): Promise<Plan> {
  const recordedById = new Map((input.state?.resources ?? []).map((r) => [r.id, r]));
  const wantedIds = new Set(input.desired.map((d) => d.id));
  const items: PlanItem[] = [];

  // Removals first, in reverse creation order (a connector before its table, a table before its database).
  for (const recorded of [...(input.state?.resources ?? [])].reverse()) {
    if (wantedIds.has(recorded.id)) continue;
    items.push(await planDelete(input, recorded));
  }
  for (const resource of input.desired) {
    items.push(await planWanted(input, resource, recordedById.get(resource.id)));
  }
  return { stack: input.stack, items };
}

async function planDelete(input: PlanInput, recorded: RecordedResource): Promise<PlanItem> {
  const item: PlanItem = {
    id: recorded.id,
    kind: recorded.kind,
    name: recorded.name,
    action: "delete",
    changes: [],
    notes: [],
    recorded,
  };
  const now = await readNow(input, recorded.kind, recorded.name, recorded);
  if (now === null) {
    item.notes.push("already gone (deleted outside the stack): only the record is removed");
    return item;
  }
  const driver = accessKinds.has(recorded.kind)
    ? undefined
    : input.target[recorded.kind as keyof StackTarget];
  if (driver?.holdsData && (await driver.holdsData(recorded.name))) {
    if (input.force) item.notes.push("holds data: --force deletes it with its data");
    else {
      item.action = "blocked";
      item.notes.push(
        `holds data: refusing to delete it without --force (its ${recorded.kind === "bucket" ? "objects" : "rows"} would be lost)`,
      );
    }
  }
  return item;
}

async function planWanted(
  input: PlanInput,
  resource: DesiredResource,
  recorded: RecordedResource | undefined,
): Promise<PlanItem> {
  const item: PlanItem = {
    id: resource.id,
    kind: resource.kind,
    name: resource.name,
    action: "none",
    changes: [],
    notes: [],
    properties: resource.properties,
    ...(recorded ? { recorded } : {}),
  };
  const owner = input.owners.get(resource.id);
  if (!recorded && owner !== undefined && owner !== input.stack) {
    item.action = "blocked";
    item.notes.push(`stack ${owner} owns it: remove it from that stack first (or from this file)`);
    return item;
  }
  const now = await readNow(input, resource.kind, resource.name, recorded);
  if (now === null) {
    item.action = "create";
    if (recorded) item.notes.push("missing: deleted outside the stack, it will be created again");
    item.changes = Object.keys(resource.properties).map((field) => ({
      field,
      from: undefined,
      to: resource.properties[field],
      drifted: false,
    }));
    if (resource.kind === "principal") planKeys(input, item, recorded);
    return item;
  }
  item.changes = differingFields(resource.properties, now).map((field) => {
    const recordedValue = recorded?.properties[field];
    const drifted = recorded !== undefined && !same(recordedValue, now[field]);
    return {
      field,
      from: now[field],
      to: resource.properties[field],
      drifted,
      ...(drifted ? { recorded: recordedValue } : {}),
    };
  });
  if (!recorded) {
    if (!input.adopt) {
      item.action = "conflict";
      item.notes.push(
        "exists outside the stack: apply with --adopt to take it over as it is (then changed to match the file), or rename it in the file",
      );
      return item;
    }
    item.action = "adopt";
    item.notes.push("exists outside the stack: --adopt takes it over");
  } else if (item.changes.length > 0) {
    item.action = "update";
  }
  if (resource.kind === "principal") planKeys(input, item, recorded);
  if (item.changes.length > 0) {
    if (item.changes.some((c) => c.drifted)) item.notes.push("changed outside the stack (drift)");
    const driver = accessKinds.has(resource.kind)
      ? undefined
      : input.target[resource.kind as keyof StackTarget];
    if (driver && !driver.update) {
      if (driver.replaceable) {
        item.action = item.action === "adopt" ? "adopt" : "replace";
        item.notes.push(`a ${resource.kind} cannot change in place: it is deleted and created again`);
      } else {
        item.action = "blocked";
        item.notes.push(
          `a ${resource.kind}'s ${item.changes.map((c) => c.field).join(" and ")} cannot change in place: put back the values it has, or delete it (hourglass ${resource.kind} delete ${resource.name}; its data goes with it) and apply again`,
        );
      }
    }
  }
  return item;
}

/** A principal's keys: issued up to the count the file asks for, once an issuer is wired in. */
function planKeys(input: PlanInput, item: PlanItem, recorded: RecordedResource | undefined): void {
  const held = recorded?.keys?.length ?? 0;
  const wanted = Number(item.properties?.keys ?? 0);
  if (held === wanted) return;
  if (!input.keysAvailable) {
    if (wanted > held)
      item.notes.push(
        `keys: ${wanted - held} to issue once \`hourglass keys\` is available; recorded without keys for now`,
      );
    return;
  }
  if (item.action === "none") item.action = "update";
  item.notes.push(wanted > held ? `keys: ${wanted - held} to issue` : `keys: ${held - wanted} to revoke`);
}

export interface PlanSummary {
  create: number;
  update: number;
  replace: number;
  adopt: number;
  delete: number;
  none: number;
  refused: number;
}

export function summarize(plan: Plan): PlanSummary {
  const count = (action: PlanAction) => plan.items.filter((i) => i.action === action).length;
  return {
    create: count("create"),
    update: count("update"),
    replace: count("replace"),
    adopt: count("adopt"),
    delete: count("delete"),
    none: count("none"),
    refused: count("conflict") + count("blocked"),
  };
}
