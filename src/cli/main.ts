/**
 * `hourglass`: the command line. Each command group lives in its own file and calls the same
 * services the HTTP API calls.
 *
 * Start-up time is every command's cost (tests and task scripts call the CLI hundreds of times),
 * so nothing is imported before it is needed:
 * - this file imports only commander; the module of a command group is imported when that
 *   command runs, and `hourglass --help` lists the groups from the table below without importing
 *   any (test/cli/start-up.test.ts checks that the table matches the modules);
 * - a command group's module imports commander and small helpers at its top; DuckDB, the stream,
 *   the scheduler, the metadata DB, the configuration's checks (zod) and tsx are imported inside
 *   the actions that use them, so `hourglass X --help` and commands that only talk to a running
 *   server do not load them (the same test checks it for every group).
 */
import { Command, CommanderError, Help, Option } from "commander";
import { isHourglassError } from "../errors.js";

type Register = (program: Command) => void;

/** A top-level command as `hourglass --help` lists it, and where its definition is. */
interface CommandEntry {
  readonly name: string;
  /** Commander's term for it in the list: name, `[options]` when it has some, its arguments. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<Register>;
}

export const commandTable: readonly CommandEntry[] = [
  {
    name: "db",
    term: "db",
    description: "Timestream databases: create, list, describe, update, delete",
    load: async () => (await import("./db.js")).registerDb,
  },
  {
    name: "table",
    term: "table",
    description: "Timestream tables: create, list, describe, update, delete",
    load: async () => (await import("./table.js")).registerTable,
  },
  {
    name: "write",
    term: "write [options] <database> <table>",
    description: "write records (Timestream WriteRecords JSON) from a file or standard input",
    load: async () => (await import("./write.js")).registerWrite,
  },
  {
    name: "query",
    term: "query [options] <sql>",
    description: "run a Timestream SQL query and print every page of its result",
    load: async () => (await import("./query.js")).registerQuery,
  },
  {
    name: "stream",
    term: "stream",
    description: "streams (Kinesis model): create, list, describe, delete, put and get records",
    load: async () => (await import("./stream.js")).registerStream,
  },
  {
    name: "loadgen",
    term: "loadgen [options]",
    description: "generate the seed's DevOps metrics and events into a stream or the store",
    load: async () => (await import("./loadgen.js")).registerLoadgen,
  },
  {
    name: "connector",
    term: "connector",
    description: "the stream → store connector (the seed's Flink Timestream connector)",
    load: async () => (await import("./connector.js")).registerConnector,
  },
  {
    name: "dags",
    term: "dags",
    description: "workflows (DAGs): list, show, pause, unpause, trigger, test, errors",
    load: async () => (await import("./dags.js")).registerDags,
  },
  {
    name: "runs",
    term: "runs",
    description: "DAG runs: list, show, mark",
    load: async () => (await import("./runs.js")).registerRuns,
  },
  {
    name: "tasks",
    term: "tasks",
    description: "task instances: clear, logs, state",
    load: async () => (await import("./tasks.js")).registerTasks,
  },
  {
    name: "backfill",
    term: "backfill",
    description: "backfills: run a DAG over past intervals (create, list, show, pause, resume, cancel)",
    load: async () => (await import("./backfill.js")).registerBackfill,
  },
  {
    name: "exports",
    term: "exports",
    description: "exported intervals: which are fresh, stale, missing, failed",
    load: async () => (await import("./exports.js")).registerExports,
  },
  {
    name: "lake",
    term: "lake",
    description: "the lake's buckets and objects, like aws s3: mb, rb, ls, cp, cat, rm, and export manifests",
    load: async () => (await import("./lake.js")).registerLake,
  },
  {
    name: "keys",
    term: "keys",
    description: "access keys for AWS clients (SigV4): create, list, revoke; kept in <state-dir>/keys.json",
    load: async () => (await import("./keys.js")).registerKeys,
  },
  {
    name: "stack",
    term: "stack",
    description:
      "a stack file (YAML) of databases, tables, buckets, streams, connectors, policies, roles, principals, DAG roles: plan, apply, destroy",
    load: async () => (await import("./stack.js")).registerStack,
  },
  {
    name: "policy",
    term: "policy",
    description: "IAM policy documents: simulate a request against them, validate them",
    load: async () => (await import("./policy.js")).registerPolicy,
  },
  // registerUp defines both `up` and `demo`: each is listed, and either loads it.
  {
    name: "up",
    term: "up [options]",
    description: "start Hourglass: store, stream, lake, scheduler, workers and the HTTP API, until Ctrl+C",
    load: async () => (await import("./up.js")).registerUp,
  },
  {
    name: "demo",
    term: "demo [options]",
    description:
      "run the seed's pipeline once in simulated time (2021-09-22, like the seed) and print a summary",
    load: async () => (await import("./up.js")).registerUp,
  },
];

/** The program with its global options and no commands yet. */
function baseProgram(): Command {
  return new Command("hourglass")
    .description(
      "Hourglass: a self-hosted time-series pipeline (Timestream-compatible store, stream, workflows, lake)",
    )
    .option("--state-dir <dir>", "state folder (default .hourglass, or HOURGLASS_STATE_DIR)")
    .option(
      "--config <file>",
      "config file (default: ./hourglass.yaml, else <state dir>/hourglass.yaml, when present; docs/operations.md)",
    )
    .addOption(
      new Option("--server <url>", "talk to this Hourglass server instead of the state folder").env(
        "HOURGLASS_SERVER",
      ),
    )
    .showHelpAfterError()
    .exitOverride();
}

/** Every command, fully defined (imports every command group's module). */
export async function buildProgram(): Promise<Command> {
  const program = baseProgram();
  const registered = new Set<Register>();
  for (const entry of commandTable) {
    const register = await entry.load();
    if (!registered.has(register)) register(program);
    registered.add(register);
  }
  return program;
}

/**
 * The program for these arguments: the named command fully defined, alone; or, when no known
 * command is named (`--help`, nothing, a typo), every command as a name and a description only,
 * for the list, the suggestions and the errors commander prints.
 */
async function programFor(argv: readonly string[]): Promise<Command> {
  const program = baseProgram();
  const entry = commandTable.find((candidate) => candidate.name === commandWord(program, argv));
  if (entry !== undefined) {
    (await entry.load())(program);
    return program;
  }
  const terms = new Map<Command, string>();
  for (const listed of commandTable) {
    terms.set(program.command(listed.name).description(listed.description), listed.term);
  }
  const defaultTerm = Help.prototype.subcommandTerm;
  program.configureHelp({
    subcommandTerm(command) {
      return terms.get(command) ?? defaultTerm.call(this, command);
    },
  });
  return program;
}

/**
 * The first operand after the global options (`hourglass --state-dir d query …` → "query"), or
 * the command after `help` (`hourglass help query`); undefined when there is none.
 */
function commandWord(program: Command, argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return args[i + 1];
    if (!arg.startsWith("-")) return arg === "help" ? args[i + 1] : arg;
    if (arg.includes("=")) continue;
    const option = program.options.find((o) => o.long === arg || o.short === arg);
    if (option?.required || option?.optional) i++; // its value
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await programFor(argv);
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
