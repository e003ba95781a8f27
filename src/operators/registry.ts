/**
 * The operator registry: the worker hands every task's descriptor to `runOperator`, which picks
 * the operator by `kind`. Each operator checks its descriptor again (a task's `run` may return one
 * built by hand), so a bad field fails the task with a message naming it.
 */
import { validationError } from "../errors.js";
import type { TaskContext } from "../workflows/index.js";
import { runCommand } from "./command-operator.js";
import type { OperatorRunner, OperatorRunOptions, TaskServices } from "./contract.js";
import { runExport } from "./export-operator.js";
import { runSqlCheck } from "./sql-check-operator.js";

type Run = (
  descriptor: unknown,
  ctx: TaskContext,
  services: TaskServices,
  options: OperatorRunOptions,
) => Promise<unknown>;

const operators: Readonly<Record<string, Run>> = Object.freeze({
  export: runExport,
  command: (descriptor, ctx) => runCommand(descriptor, ctx),
  sqlCheck: (descriptor, ctx, services) => runSqlCheck(descriptor, ctx, services),
});

export const operatorKinds: readonly string[] = Object.freeze(Object.keys(operators));

export const runOperator: OperatorRunner = (descriptor, ctx, services, options = {}) => {
  const kind: unknown = (descriptor as { kind?: unknown } | null)?.kind;
  const run = typeof kind === "string" && Object.hasOwn(operators, kind) ? operators[kind] : undefined;
  if (run === undefined) {
    return Promise.reject(
      validationError(
        `unknown operator kind ${JSON.stringify(kind)} (known kinds: ${operatorKinds.join(", ")})`,
        { kind, knownKinds: operatorKinds },
      ),
    );
  }
  return run(descriptor, ctx, services, options);
};
