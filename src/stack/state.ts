/**
 * What a stack owns, kept in `<state>/stacks/NAME.json` and replaced atomically after every
 * resource an apply or destroy changes, so a run that stops half-way leaves an exact record and the
 * next run finishes the job. For policies, roles, principals and DAG roles this file is the record
 * itself: `readAccessModel` is what the policy engine reads.
 */
import fs from "node:fs";
import path from "node:path";
import { validationError } from "../errors.js";
import type { Properties, ResourceKind } from "./resources.js";

/** An access key issued to a principal: its id only; the secret is printed once and not kept. */
export interface IssuedKeyRecord {
  accessKeyId: string;
  createdAt: string;
}

export interface RecordedResource {
  id: string;
  kind: ResourceKind;
  name: string;
  /** The properties as last applied (what drift is measured against). */
  properties: Properties;
  /** It existed before the stack and was taken over with --adopt. */
  adopted: boolean;
  appliedAt: string;
  /** Principals only: the keys issued for it. */
  keys?: IssuedKeyRecord[];
}

export interface StackState {
  stack: string;
  version: 1;
  account: string;
  region: string;
  updatedAt: string;
  /** In dependency order (creation order): destroy walks it backwards. */
  resources: RecordedResource[];
}

export const stacksFolder = (stateDir: string): string => path.join(stateDir, "stacks");
export const stackStatePath = (stateDir: string, stack: string): string =>
  path.join(stacksFolder(stateDir), `${stack}.json`);

export function readStackState(stateDir: string, stack: string): StackState | null {
  const file = stackStatePath(stateDir, stack);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    const state = JSON.parse(text) as StackState;
    if (state.version !== 1 || !Array.isArray(state.resources))
      throw new Error("not a version 1 stack record");
    return state;
  } catch (error) {
    throw validationError(
      `the record of stack ${stack} (${file}) is unreadable: ${(error as Error).message}; restore it from a backup, or move it away and apply with --adopt to take the resources over again`,
      { file },
    );
  }
}

/** Replaces the record whole (temp file, fsync, rename); an empty stack's record is removed. */
export function writeStackState(stateDir: string, state: StackState): void {
  const file = stackStatePath(stateDir, state.stack);
  if (state.resources.length === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const handle = fs.openSync(temp, "w");
  try {
    fs.writeFileSync(
      handle,
      `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    fs.fsyncSync(handle);
  } finally {
    fs.closeSync(handle);
  }
  fs.renameSync(temp, file);
}

/** Every stack recorded in the state folder. */
export function listStackStates(stateDir: string): StackState[] {
  let names: string[];
  try {
    names = fs.readdirSync(stacksFolder(stateDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith(".json"))
    .map((n) => readStackState(stateDir, n.slice(0, -".json".length)))
    .filter((s): s is StackState => s !== null);
}

/** Which stack owns each resource id, over every stack of the state folder. */
export function ownersOf(stateDir: string): Map<string, string> {
  const owners = new Map<string, string>();
  for (const state of listStackStates(stateDir)) {
    for (const r of state.resources) owners.set(r.id, state.stack);
  }
  return owners;
}

/**
 * The policies, roles, principals and DAG roles of every stack: the seam the policy engine
 * (src/access) reads to decide a call, and where it finds which role a DAG's tasks run under.
 */
export interface AccessModel {
  policies: { name: string; stack: string; arn: string; document: unknown }[];
  roles: { name: string; stack: string; arn: string; policies: string[] }[];
  principals: {
    name: string;
    stack: string;
    kind: string;
    role: string | null;
    policies: string[];
    accessKeyIds: string[];
  }[];
  dagRoles: { dag: string; role: string; stack: string }[];
}

export function readAccessModel(stateDir: string): AccessModel {
  const model: AccessModel = { policies: [], roles: [], principals: [], dagRoles: [] };
  for (const state of listStackStates(stateDir)) {
    for (const r of state.resources) {
      const p = r.properties;
      if (r.kind === "policy")
        model.policies.push({
          name: r.name,
          stack: state.stack,
          arn: `arn:aws:iam::${state.account}:policy/${r.name}`,
          document: p.document,
        });
      else if (r.kind === "role")
        model.roles.push({
          name: r.name,
          stack: state.stack,
          arn: `arn:aws:iam::${state.account}:role/${r.name}`,
          policies: p.policies as string[],
        });
      else if (r.kind === "principal")
        model.principals.push({
          name: r.name,
          stack: state.stack,
          kind: p.kind as string,
          role: p.role as string | null,
          policies: p.policies as string[],
          accessKeyIds: (r.keys ?? []).map((k) => k.accessKeyId),
        });
      else if (r.kind === "dag")
        model.dagRoles.push({ dag: r.name, role: p.role as string, stack: state.stack });
    }
  }
  return model;
}
