/** The stack commands' work: load the file, plan against the services, apply, print. */
import fs from "node:fs";
import type { Command } from "commander";
import { createAccessKey, revokeAccessKey } from "../access/index.js";
import { notFound } from "../errors.js";
import {
  type ApplyOutcome,
  applyPlan,
  assertApplicable,
  type KeyIssuer,
  listStackStates,
  loadStackFile,
  makePlan,
  ownersOf,
  type Plan,
  readStackState,
  renderOutcome,
  renderPlan,
  type StackState,
  type StackTarget,
  stackStatePath,
} from "../stack/index.js";
import { configFrom } from "./context.js";
import { renderTable } from "./output.js";
import { withStackTarget } from "./stack-target.js";

/** The calls of `hourglass keys` (src/access/keys.ts, on its way to main) that a stack needs. */
export interface AccessKeyFunctions {
  createAccessKey(
    stateDir: string,
    name: string,
  ): { accessKeyId: string; secretAccessKey: string; createdAt: string };
  revokeAccessKey(stateDir: string, accessKeyId: string): unknown;
}

/** A KeyIssuer on `hourglass keys`' key file: each key named after its principal. */
export function keyIssuerFrom(stateDir: string, keys: AccessKeyFunctions): KeyIssuer {
  return {
    issue: async (principal) => {
      const key = keys.createAccessKey(stateDir, `principal ${principal}`);
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, createdAt: key.createdAt };
    },
    revoke: async (accessKeyId) => void keys.revokeAccessKey(stateDir, accessKeyId),
  };
}

/** Principals get access keys from `<stateDir>/keys.json`, the file `hourglass keys` edits. */
function keyIssuer(stateDir: string): KeyIssuer | null {
  return keyIssuerFrom(stateDir, { createAccessKey, revokeAccessKey });
}

const emptyState = (stack: string, account: string, region: string): StackState => ({
  stack,
  version: 1,
  account,
  region,
  updatedAt: new Date().toISOString(),
  resources: [],
});

async function planFile(
  target: StackTarget,
  stateDir: string,
  file: string,
  o: StackFlags,
): Promise<{ plan: Plan; state: StackState }> {
  const loaded = loadStackFile(file);
  const name = loaded.spec.stack;
  const state = readStackState(stateDir, name) ?? emptyState(name, loaded.spec.account, loaded.spec.region);
  state.account = loaded.spec.account;
  state.region = loaded.spec.region;
  const plan = await makePlan({
    stack: name,
    desired: loaded.resources,
    state,
    owners: ownersOf(stateDir),
    target,
    adopt: o.adopt === true,
    force: o.force === true,
    keysAvailable: keyIssuer(stateDir) !== null,
  });
  return { plan, state };
}

/** The flags every stack subcommand shares. */
export interface StackFlags {
  adopt?: boolean;
  force?: boolean;
  format: "text" | "json";
}

export async function runPlan(cmd: Command, file: string, o: StackFlags): Promise<void> {
  await withStackTarget(cmd, async (target, where) => {
    const { plan } = await planFile(target, where.stateDir, file, o);
    if (o.format === "json") console.log(JSON.stringify(plan, null, 2));
    else console.log(renderPlan(plan, { verb: "plan" }));
  });
}

function printOutcome(plan: Plan, outcome: ApplyOutcome, verb: "apply" | "destroy", o: StackFlags): void {
  if (o.format === "json") console.log(JSON.stringify({ stack: plan.stack, ...outcome }, null, 2));
  else console.log(renderOutcome(plan, outcome, verb));
  if (outcome.failed) process.exitCode = 1;
}

export async function runApply(cmd: Command, file: string, o: StackFlags): Promise<void> {
  await withStackTarget(cmd, async (target, where) => {
    const { plan, state } = await planFile(target, where.stateDir, file, o);
    assertApplicable(plan, "apply");
    const outcome = await applyPlan({
      plan,
      state,
      stateDir: where.stateDir,
      target,
      keys: keyIssuer(where.stateDir),
      force: o.force === true,
    });
    printOutcome(plan, outcome, "apply", o);
  });
}

/** A stack file names its stack; a bare name is taken as the stack's name. */
function stackNameOf(fileOrName: string): string {
  if (fs.existsSync(fileOrName) && fs.statSync(fileOrName).isFile())
    return loadStackFile(fileOrName).spec.stack;
  return fileOrName;
}

export async function runDestroy(
  cmd: Command,
  fileOrName: string,
  o: StackFlags & { dryRun?: boolean },
): Promise<void> {
  await withStackTarget(cmd, async (target, where) => {
    const name = stackNameOf(fileOrName);
    const state = readStackState(where.stateDir, name);
    if (!state) {
      throw notFound(
        `no stack named ${name} in ${stackStatePath(where.stateDir, name)}: it was never applied here, or is destroyed already`,
        { stack: name },
      );
    }
    const plan = await makePlan({
      stack: name,
      desired: [],
      state,
      owners: ownersOf(where.stateDir),
      target,
      adopt: false,
      force: o.force === true,
      keysAvailable: keyIssuer(where.stateDir) !== null,
    });
    if (o.dryRun) {
      if (o.format === "json") console.log(JSON.stringify(plan, null, 2));
      else console.log(renderPlan(plan, { verb: "destroy" }));
      return;
    }
    assertApplicable(plan, "destroy");
    const outcome = await applyPlan({
      plan,
      state,
      stateDir: where.stateDir,
      target,
      keys: keyIssuer(where.stateDir),
      force: o.force === true,
    });
    printOutcome(plan, outcome, "destroy", o);
  });
}

export async function runList(cmd: Command, o: StackFlags): Promise<void> {
  const stacks = listStackStates((await configFrom(cmd)).stateDir);
  if (o.format === "json") {
    console.log(
      JSON.stringify(
        stacks.map((s) => ({ stack: s.stack, resources: s.resources.length, updatedAt: s.updatedAt })),
        null,
        2,
      ),
    );
    return;
  }
  if (stacks.length === 0) {
    console.log("no stacks: `hourglass stack apply FILE` makes one");
    return;
  }
  console.log(
    renderTable(
      ["Stack", "Resources", "Account", "Region", "UpdatedAt"],
      stacks.map((s) => [s.stack, String(s.resources.length), s.account, s.region, s.updatedAt]),
    ),
  );
}
