/**
 * Dependency order: a resource comes after everything it refers to (a table after its database, a
 * connector after its stream and table, a policy after what its ARNs name, a role after its
 * policies). Among resources free to go, the file's order wins, so a plan reads like the file.
 */
import { problemsError, type SourceMap, where } from "./parse.js";
import type { DesiredResource } from "./resources.js";

export function dependencyOrder(resources: readonly DesiredResource[], source: SourceMap): DesiredResource[] {
  const byId = new Map(resources.map((r) => [r.id, r]));
  const dependencies = new Map(resources.map((r) => [r.id, new Set(r.references.map((x) => x.target))]));
  const ordered: DesiredResource[] = [];
  const done = new Set<string>();
  while (ordered.length < resources.length) {
    const next = resources.find(
      (r) => !done.has(r.id) && [...dependencies.get(r.id)!].every((d) => done.has(d)),
    );
    if (!next)
      throw cycleError(
        resources.filter((r) => !done.has(r.id)),
        byId,
        source,
      );
    ordered.push(next);
    done.add(next.id);
  }
  return ordered;
}

/** Names one cycle among the resources left, with the file positions of its references. */
function cycleError(left: DesiredResource[], byId: Map<string, DesiredResource>, source: SourceMap): Error {
  const leftIds = new Set(left.map((r) => r.id));
  // Walk references among the resources left until one repeats: every one of them has such a
  // reference, or it would have been ordered.
  const trail: { resource: DesiredResource; via: DesiredResource["references"][number] }[] = [];
  const position = new Map<string, number>();
  let current = left[0]!;
  while (!position.has(current.id)) {
    position.set(current.id, trail.length);
    const via = current.references.find((x) => leftIds.has(x.target))!;
    trail.push({ resource: current, via });
    current = byId.get(via.target)!;
  }
  const cycle = trail.slice(position.get(current.id));
  const names = [...cycle.map((step) => step.resource.id), current.id].join(" → ");
  const positions = cycle.map(
    (step) => `${step.resource.id} refers to ${step.via.target} at ${where(source, step.via.path)}`,
  );
  return problemsError(source.file, [
    `dependency cycle: ${names}; remove one of these references: ${positions.join("; ")}`,
  ]);
}
