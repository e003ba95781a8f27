/**
 * `hourglass`: the command line. Each command group lives in its own file and calls the same
 * services the HTTP API calls.
 */
import { Command, CommanderError, Option } from "commander";
import { isHourglassError } from "../errors.js";
import { registerBackfill } from "./backfill.js";
import { registerConnector } from "./connector.js";
import { registerDags } from "./dags.js";
import { registerDb } from "./db.js";
import { registerLake } from "./lake.js";
import { registerLoadgen } from "./loadgen.js";
import { registerPolicy } from "./policy.js";
import { registerQuery } from "./query.js";
import { registerRuns } from "./runs.js";
import { registerStream } from "./stream.js";
import { registerTable } from "./table.js";
import { registerTasks } from "./tasks.js";
import { registerUp } from "./up.js";
import { registerWrite } from "./write.js";

export function buildProgram(): Command {
  const program = new Command("hourglass")
    .description(
      "Hourglass: a self-hosted time-series pipeline (Timestream-compatible store, stream, workflows, lake)",
    )
    .option("--state-dir <dir>", "state folder (default .hourglass, or HOURGLASS_STATE_DIR)")
    .option("--config <file>", "config file (default ./hourglass.yaml when present)")
    .addOption(
      new Option("--server <url>", "talk to this Hourglass server instead of the state folder").env(
        "HOURGLASS_SERVER",
      ),
    )
    .showHelpAfterError()
    .exitOverride();
  registerDb(program);
  registerTable(program);
  registerWrite(program);
  registerQuery(program);
  registerStream(program);
  registerLoadgen(program);
  registerConnector(program);
  registerDags(program);
  registerRuns(program);
  registerTasks(program);
  registerBackfill(program);
  registerLake(program);
  registerUp(program);
  registerPolicy(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode;
    }
    if (isHourglassError(error)) {
      process.stderr.write(`error: ${error.message}\n`);
      return error.code === "ValidationError" || error.code === "NotFound" || error.code === "Conflict"
        ? 2
        : 1;
    }
    process.stderr.write(
      `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
