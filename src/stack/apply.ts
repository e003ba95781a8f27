/**
 * Carries out a plan one resource at a time, in its order, recording each success in the stack's
 * state file at once. The first failure stops the run: the results say what succeeded, what failed
 * (and why) and what did not run, and the next apply starts from the record, so it finishes the job.
 */
import { conflict, toHourglassError } from "../errors.js";
import { type Plan, type PlanItem, refusingActions } from "./plan.js";
import { accessKinds } from "./resources.js";
import { type IssuedKeyRecord, type RecordedResource, type StackState, writeStackState } from "./state.js";
import type { IssuedKey, KeyIssuer, StackTarget } from "./target.js";

export type ResultStatus = "succeeded" | "unchanged" | "failed" | "not-run";

export interface ItemResult {
  id: string;
  action: PlanItem["action"];
  status: ResultStatus;
  error?: string;
  /** Keys issued to a principal by this run: the secret is shown this once. */
  issuedKeys?: IssuedKey[];
}

export interface ApplyInput {
  plan: Plan;
  state: StackState;
  stateDir: string;
  target: StackTarget;
  keys: KeyIssuer | null;
  force: boolean;
}

export interface ApplyOutcome {
  results: ItemResult[];
  failed: boolean;
  /** Principals recorded without keys because no key issuer is wired in. */
  keysPending: string[];
}

/** Refuses the whole plan before any change when one item cannot be done. */
export function assertApplicable(plan: Plan, verb: "apply" | "destroy"): void {
  const refused = plan.items.filter((i) => refusingActions.has(i.action));
  if (refused.length === 0) return;
  throw conflict(
    `${verb} refused, nothing was changed: ${refused.map((i) => `${i.id}: ${i.notes.join("; ")}`).join(" | ")}`,
    { refused: refused.map((i) => i.id) },
  );
}

export async function applyPlan(input: ApplyInput): Promise<ApplyOutcome> {
  const { plan, state } = input;
  const results: ItemResult[] = [];
  const keysPending: string[] = [];
  let failed = false;
  for (const item of plan.items) {
    if (failed) {
      results.push({
        id: item.id,
        action: item.action,
        status: item.action === "none" ? "unchanged" : "not-run",
      });
      continue;
    }
    if (item.action === "none") {
      // Keep the record's copy equal to the file (a field the service does not report may differ).
      recordResource(state, item, undefined);
      results.push({ id: item.id, action: item.action, status: "unchanged" });
      continue;
    }
    try {
      const issuedKeys = await applyItem(input, item, keysPending);
      if (item.action === "delete") state.resources = state.resources.filter((r) => r.id !== item.id);
      else recordResource(state, item, issuedKeys);
      writeStackState(input.stateDir, state);
      results.push({
        id: item.id,
        action: item.action,
        status: "succeeded",
        ...(issuedKeys && issuedKeys.length > 0 ? { issuedKeys } : {}),
      });
    } catch (error) {
      failed = true;
      results.push({
        id: item.id,
        action: item.action,
        status: "failed",
        error: toHourglassError(error).message,
      });
    }
  }
  writeStackState(input.stateDir, state);
  return { results, failed, keysPending };
}

function recordResource(state: StackState, item: PlanItem, issuedKeys: IssuedKey[] | undefined): void {
  const previous = state.resources.find((r) => r.id === item.id);
  const keys: IssuedKeyRecord[] = [
    ...(previous?.keys ?? []),
    ...(issuedKeys ?? []).map((k) => ({ accessKeyId: k.accessKeyId, createdAt: k.createdAt })),
  ];
  const record: RecordedResource = {
    id: item.id,
    kind: item.kind,
    name: item.name,
    properties: item.properties ?? {},
    adopted: previous?.adopted ?? item.action === "adopt",
    appliedAt: item.action === "none" && previous ? previous.appliedAt : new Date().toISOString(),
    ...(item.kind === "principal"
      ? { keys: keys.slice(0, Number(item.properties?.keys ?? keys.length)) }
      : {}),
  };
  if (previous) state.resources[state.resources.indexOf(previous)] = record;
  else state.resources.push(record);
}

async function applyItem(
  input: ApplyInput,
  item: PlanItem,
  keysPending: string[],
): Promise<IssuedKey[] | undefined> {
  if (accessKinds.has(item.kind)) {
    if (item.kind === "principal") return syncKeys(input, item, keysPending);
    return undefined; // the record is the resource
  }
  const driver = input.target[item.kind as keyof StackTarget];
  const properties = item.properties ?? {};
  switch (item.action) {
    case "create":
      await driver.create(item.name, properties);
      return undefined;
    case "update":
    case "adopt":
      if (item.changes.length === 0) return undefined;
      if (driver.update) await driver.update(item.name, properties);
      else {
        await driver.delete(item.name, { force: false });
        await driver.create(item.name, properties);
      }
      return undefined;
    case "replace":
      await driver.delete(item.name, { force: false });
      await driver.create(item.name, properties);
      return undefined;
    case "delete":
      if (await driver.read(item.name)) await driver.delete(item.name, { force: input.force });
      return undefined;
    default:
      throw new Error(`a ${item.action} item cannot be applied`);
  }
}

/** Issues keys up to the count the file asks for, revokes those beyond it (or all, on delete). */
async function syncKeys(
  input: ApplyInput,
  item: PlanItem,
  keysPending: string[],
): Promise<IssuedKey[] | undefined> {
  const held = item.recorded?.keys ?? [];
  const wanted = item.action === "delete" ? 0 : Number(item.properties?.keys ?? 0);
  if (held.length === wanted) return undefined;
  if (!input.keys) {
    if (wanted > held.length) keysPending.push(item.name);
    return undefined;
  }
  for (const key of held.slice(wanted)) await input.keys.revoke(key.accessKeyId);
  const issued: IssuedKey[] = [];
  for (let n = held.length; n < wanted; n++) issued.push(await input.keys.issue(item.name));
  return issued;
}
