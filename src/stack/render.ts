/** Plans and apply results as text a person reads: one line per resource, a sign for the action. */
import type { ApplyOutcome } from "./apply.js";
import type { Plan, PlanAction, PlanItem } from "./plan.js";
import { summarize } from "./plan.js";

const signs: Record<PlanAction, string> = {
  create: "+",
  update: "~",
  replace: "-/+",
  adopt: "<=",
  delete: "-",
  none: "=",
  conflict: "!",
  blocked: "!",
};

const show = (value: unknown): string =>
  value === undefined ? "(none)" : typeof value === "string" ? value : JSON.stringify(value);

/** A policy document is shown by its size: the file holds the text, the plan says it changes. */
function showField(field: string, value: unknown): string {
  if (field === "document" && value !== null && typeof value === "object") {
    const statements = (value as { Statement?: unknown }).Statement;
    const count = Array.isArray(statements) ? statements.length : 1;
    return `(policy document, ${count} statement${count === 1 ? "" : "s"})`;
  }
  return show(value);
}

function label(item: PlanItem): string {
  return `${item.kind} ${item.kind === "table" ? item.name.replace("/", ".") : item.name}`;
}

export function renderPlan(plan: Plan, options: { verb: "plan" | "destroy" }): string {
  const lines = [
    `stack ${plan.stack}: ${options.verb === "destroy" ? "would delete, in reverse dependency order" : "plan, in dependency order"}`,
  ];
  for (const item of plan.items) {
    const what = item.action === "conflict" || item.action === "blocked" ? `${item.action}: ` : "";
    lines.push(
      `  ${signs[item.action].padEnd(3)} ${what}${label(item)}${item.action === "none" ? " (no change)" : ""}`,
    );
    if (item.action !== "none") {
      for (const change of item.changes) {
        const drift = change.drifted
          ? `   (changed outside the stack; last applied ${show(change.recorded)})`
          : "";
        lines.push(
          change.from === undefined
            ? `        ${change.field}: ${showField(change.field, change.to)}`
            : `        ${change.field}: ${showField(change.field, change.from)} -> ${showField(change.field, change.to)}${drift}`,
        );
      }
    }
    for (const note of item.notes) lines.push(`        # ${note}`);
  }
  const s = summarize(plan);
  if (options.verb === "destroy") {
    lines.push(
      s.refused > 0
        ? `${s.delete} to delete, ${s.refused} refused (see "!")`
        : plan.items.length === 0
          ? "nothing to delete: the stack owns no resources"
          : `${s.delete} to delete`,
    );
  } else if (s.create + s.update + s.replace + s.adopt + s.delete + s.refused === 0) {
    lines.push(`no changes: the resources match the file (${s.none} unchanged)`);
  } else {
    lines.push(
      `${s.create} to create, ${s.update + s.replace} to change, ${s.adopt} to adopt, ${s.delete} to delete, ${s.none} unchanged` +
        (s.refused > 0 ? `, ${s.refused} refused (see "!": apply would change nothing)` : ""),
    );
  }
  return lines.join("\n");
}

export function renderOutcome(plan: Plan, outcome: ApplyOutcome, verb: "apply" | "destroy"): string {
  const changed = outcome.results.filter((r) => r.status === "succeeded").length;
  if (!outcome.failed && changed === 0) {
    return `stack ${plan.stack}: no changes: the resources match the file (${outcome.results.length} unchanged)`;
  }
  const lines = [`stack ${plan.stack}: ${verb}`];
  for (const result of outcome.results) {
    const item = plan.items.find((i) => i.id === result.id)!;
    lines.push(
      `  ${result.status.padEnd(9)} ${signs[result.action].padEnd(3)} ${label(item)}${result.error ? `: ${result.error}` : ""}`,
    );
    for (const key of result.issuedKeys ?? []) {
      lines.push(
        `            access key ${key.accessKeyId}, secret ${key.secretAccessKey} (shown only now: keep it)`,
      );
    }
  }
  if (outcome.keysPending.length > 0) {
    lines.push(
      `principals recorded without access keys (hourglass keys is not wired in yet): ${outcome.keysPending.join(", ")}`,
    );
  }
  const count = (status: string) => outcome.results.filter((r) => r.status === status).length;
  lines.push(
    outcome.failed
      ? `${count("succeeded")} done, ${count("failed")} failed, ${count("not-run")} not run: fix the cause and run ${verb} again, it continues from what was done`
      : `${count("succeeded")} done, ${count("unchanged")} unchanged`,
  );
  return lines.join("\n");
}
