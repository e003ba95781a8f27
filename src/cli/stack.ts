/**
 * `hourglass stack plan|apply|destroy FILE`: the resources of a stack file, planned, applied in
 * dependency order and destroyed in reverse. The work is in stack-run.ts, loaded only when a stack
 * command runs, so other commands do not pay for it.
 */
import { type Command, Option } from "commander";

import type { StackFlags } from "./stack-run.js";

const formatOption = () =>
  new Option("--format <format>", "text (a readable diff) or json").choices(["text", "json"]).default("text");

export function registerStack(program: Command): void {
  const stack = program
    .command("stack")
    .description(
      "a stack file (YAML) of databases, tables, buckets, streams, connectors, policies, roles, principals, DAG roles: plan, apply, destroy",
    )
    .addHelpText(
      "after",
      "\nExample:\n  hourglass stack plan examples/stack.yaml\n  hourglass stack apply examples/stack.yaml",
    );
  stack
    .command("plan <file>")
    .description(
      "show what apply would create, change or delete, in dependency order, and drift (changes made by hand)",
    )
    .option("--adopt", "plan to take over resources that exist outside the stack")
    .option("--force", "plan to delete tables and buckets that hold data")
    .addOption(formatOption())
    .action(async (file: string, o: StackFlags, cmd: Command) => {
      const { runPlan } = await import("./stack-run.js");
      await runPlan(cmd, file, o);
    });
  stack
    .command("apply <file>")
    .description("create, change and delete resources until they match the file; safe to run again")
    .option("--adopt", "take over resources of the file that exist already outside any stack")
    .option("--force", "delete tables and buckets removed from the file even when they hold data")
    .addOption(formatOption())
    .action(async (file: string, o: StackFlags, cmd: Command) => {
      const { runApply } = await import("./stack-run.js");
      await runApply(cmd, file, o);
    });
  stack
    .command("list")
    .description("the stacks recorded in the state folder, with how many resources each owns")
    .addOption(formatOption())
    .action(async (o: StackFlags, cmd: Command) => {
      const { runList } = await import("./stack-run.js");
      runList(cmd, o);
    });
  stack
    .command("destroy <file-or-name>")
    .description("delete every resource the stack owns, in reverse dependency order")
    .option("--force", "also delete tables and buckets that hold data (with their data)")
    .option("--dry-run", "only show what would be deleted")
    .addOption(formatOption())
    .action(async (target: string, o: StackFlags & { dryRun?: boolean }, cmd: Command) => {
      const { runDestroy } = await import("./stack-run.js");
      await runDestroy(cmd, target, o);
    });
}
