/** From a stack file to its resources in dependency order, every problem named with its line. */
import fs from "node:fs";
import { validationError } from "../errors.js";
import { dependencyOrder } from "./order.js";
import { parseStackText, problemsError, where } from "./parse.js";
import { type DesiredResource, desiredResources } from "./resources.js";
import type { StackFile } from "./schema.js";
import type { PolicyDocumentValidator } from "./target.js";

export interface LoadedStack {
  spec: StackFile;
  /** In dependency order. */
  resources: DesiredResource[];
}

export function loadStackText(
  text: string,
  file: string,
  options: { validatePolicy?: PolicyDocumentValidator } = {},
): LoadedStack {
  const { spec, source } = parseStackText(text, file);
  const resources = desiredResources(spec, source);
  if (options.validatePolicy) {
    const problems = spec.resources.policies.flatMap((policy, i) =>
      options.validatePolicy!(policy.document).map(
        (problem) => `${where(source, ["resources", "policies", i, "document"])}: ${problem}`,
      ),
    );
    if (problems.length > 0) throw problemsError(file, problems);
  }
  return { spec, resources: dependencyOrder(resources, source) };
}

export function loadStackFile(
  file: string,
  options: { validatePolicy?: PolicyDocumentValidator } = {},
): LoadedStack {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw validationError(`cannot read the stack file ${file}: ${(error as Error).message}`, { file });
  }
  return loadStackText(text, file, options);
}
