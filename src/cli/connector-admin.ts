/**
 * `hourglass connector create | list | describe | start | stop | delete`: connectors as managed
 * resources of the server. With `hourglass up` running they are the server's calls over HTTP; with
 * no server they work on the state folder's definitions file (`start` then refuses: nothing runs
 * connectors without a server).
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { HttpClient, RemoteConnectors } from "../api/remote.js";
import type {
  ConnectorAdmin,
  ConnectorDefinitionInput,
  ConnectorDescription,
  ConnectorMapping,
} from "../stream/connector/index.js";
// The settings module, not the part's index.ts: --help shows these defaults without loading the
// connector (see main.ts).
import { defaultBatchSize, defaultMaxDelayMs, parseStartPosition } from "../stream/connector/settings.js";
import { configFrom, serverUrl } from "./context.js";
import { printJson, renderTable } from "./output.js";
import { formatCount } from "./progress.js";
import { integerOption } from "./stream.js";

/** Commander parser for --from: trim-horizon, latest, or an ISO time. */
export function startPositionOption(value: string): string {
  try {
    parseStartPosition(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

/** The server's connectors when one runs for the state folder, else the definitions file. */
async function withConnectors<T>(
  command: Command,
  work: (connectors: ConnectorAdmin, where: { remote: boolean; stateDir: string }) => Promise<T>,
): Promise<T> {
  const config = await configFrom(command);
  const url = serverUrl(command, config);
  if (url)
    return work(new RemoteConnectors(new HttpClient(url)), { remote: true, stateDir: config.stateDir });
  const { OfflineConnectors } = await import("../stream/connector/index.js");
  return work(new OfflineConnectors(config.stateDir), { remote: false, stateDir: config.stateDir });
}

interface CreateFlags {
  stream: string;
  database: string;
  table: string;
  mapping: ConnectorMapping;
  batchSize: number;
  maxDelayMs: number;
  from: string;
  deadLetterStream?: string;
  stopped?: boolean;
  json?: boolean;
}

const count = (value: number | null): string => (value === null ? "?" : formatCount(value));

function stateLine(d: ConnectorDescription): string {
  return d.reason === null ? d.state : `${d.state}: ${d.reason}`;
}

export function describeConnectorText(d: ConnectorDescription): string {
  const c = d.counts;
  return [
    `connector ${d.name}: ${d.stream} → ${d.database}.${d.table} (mapping ${d.mapping}, from ${d.from}, batches of ${formatCount(d.batchSize)} or ${formatCount(d.maxDelayMs)} ms)`,
    `  state: ${stateLine(d)}`,
    `  written ${formatCount(c.written)}  rejected ${formatCount(c.rejected)}  parse-failed ${formatCount(c.parseFailed)}  dead-lettered ${formatCount(c.deadLettered)}  batches ${formatCount(c.batches)}`,
    `  lag: ${count(d.lag.records)} records, millisBehindLatest ${count(d.lag.millisBehindLatest)}; ${formatCount(d.recordsPerSecond)} records/s`,
    `  dead letters to ${d.deadLetterStream}; checkpoint saved ${d.checkpointSavedAt ?? "never"}${d.lastError ? `; last error: ${d.lastError.message}` : ""}`,
    renderTable(
      ["Shard", "Checkpoint (last sequence number in the store)", "Behind", "MillisBehindLatest"],
      d.shards.map((s) => [
        s.shardId,
        s.checkpoint ?? "-",
        count(s.behindRecords),
        count(s.millisBehindLatest),
      ]),
    )
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n"),
  ].join("\n");
}

export function registerConnectorAdmin(connector: Command): void {
  connector
    .command("create <name>")
    .description("define a connector the server runs (and resumes after a restart) until stopped or deleted")
    .requiredOption("--stream <name>", "source stream")
    .requiredOption("--database <name>", "target database")
    .requiredOption("--table <name>", "target table")
    .addOption(
      new Option(
        "--mapping <mapping>",
        "single: the original JSON; flat: @type JSON → multi-measure; auto: per record",
      )
        .choices(["single", "flat", "auto"])
        .default("single"),
    )
    .option(
      "--batch-size <n>",
      "records per store write, at most",
      integerOption(1, 1_000_000),
      defaultBatchSize,
    )
    .option(
      "--max-delay-ms <n>",
      "write a partly filled batch once its oldest record waited this long",
      integerOption(0, 3_600_000),
      defaultMaxDelayMs,
    )
    .option(
      "--from <position>",
      "where shards without a checkpoint start: trim-horizon, latest, or an ISO time (2026-12-07T10:00:00Z)",
      startPositionOption,
      "trim-horizon",
    )
    .option(
      "--dead-letter-stream <name>",
      "where records that cannot be stored go (default <stream>-deadletter)",
    )
    .option("--stopped", "create it stopped (start it later with `connector start`)")
    .option("--json", "print the connector as JSON")
    .addHelpText(
      "after",
      `
Example:
  hourglass connector create metrics-to-table --stream airflow-timestream --database airflow-db --table airflow-table

With \`hourglass up\` running, the server starts it at once; a stream or table that does not exist
leaves it "failed" with the reason (create them, then \`hourglass connector start <name>\`). Without a
server, the definition is saved in the state folder and the next \`hourglass up\` starts it.
A checkpoint already saved under this name (by \`connector run --name\`) is resumed.`,
    )
    .action(async (name: string, o: CreateFlags, cmd: Command) => {
      const input: ConnectorDefinitionInput = {
        name,
        stream: o.stream,
        database: o.database,
        table: o.table,
        mapping: o.mapping,
        batchSize: o.batchSize,
        maxDelayMs: o.maxDelayMs,
        from: o.from,
        ...(o.deadLetterStream === undefined ? {} : { deadLetterStream: o.deadLetterStream }),
        ...(o.stopped ? { start: false } : {}),
      };
      await withConnectors(cmd, async (connectors, where) => {
        const created = await connectors.create(input);
        if (o.json) return printJson(created);
        console.log(
          `created connector ${created.name}: ${created.stream} → ${created.database}.${created.table}; ${stateLine(created)}`,
        );
        if (where.remote && created.state === "failed") {
          process.stderr.write(`warning: connector ${created.name} did not start: ${created.reason}\n`);
        }
      });
    });

  connector
    .command("list")
    .description("list the connectors: state, source, target, records written, lag")
    .option("--json", "print them as JSON")
    .addHelpText("after", "\nExample:\n  hourglass connector list")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withConnectors(cmd, async (connectors, where) => {
        const list = await connectors.list();
        if (o.json) return printJson(list);
        if (list.length === 0) {
          console.log(
            `no connectors${where.remote ? "" : ` in ${where.stateDir}`}: create one with \`hourglass connector create\``,
          );
          return;
        }
        console.log(
          renderTable(
            ["Name", "State", "Stream", "Table", "Written", "Lag (records)", "MillisBehindLatest"],
            list.map((d) => [
              d.name,
              d.state,
              d.stream,
              `${d.database}.${d.table}`,
              formatCount(d.counts.written),
              count(d.lag.records),
              count(d.lag.millisBehindLatest),
            ]),
          ),
        );
        for (const d of list) if (d.state === "failed") console.log(`${d.name}: ${d.reason}`);
      });
    });

  connector
    .command("describe <name>")
    .description("show a connector: state (and why), counts, per-shard checkpoint and lag")
    .option("--json", "print it as JSON")
    .addHelpText("after", "\nExample:\n  hourglass connector describe metrics-to-table")
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withConnectors(cmd, async (connectors) => {
        const description = await connectors.describe(name);
        if (o.json) return printJson(description);
        console.log(describeConnectorText(description));
      });
    });

  connector
    .command("start <name>")
    .description("start a stopped or failed connector on the running server, after its checkpoint")
    .option("--json", "print the connector as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  hourglass connector start metrics-to-table\n\nNeeds `hourglass up` running: without a server nothing runs connectors (`hourglass up` starts\nevery connector not stopped; `hourglass connector run` runs one in the terminal).",
    )
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withConnectors(cmd, async (connectors) => {
        const started = await connectors.start(name);
        if (o.json) return printJson(started);
        console.log(`connector ${started.name}: ${stateLine(started)}`);
        if (started.state === "failed") process.exitCode = 1;
      });
    });

  connector
    .command("stop <name>")
    .description(
      "stop a connector after its batch in hand is written and checkpointed; it stays stopped across restarts",
    )
    .option("--json", "print the connector as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  hourglass connector stop metrics-to-table\n\nRecords put on the stream meanwhile wait there; `connector start` writes them.",
    )
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withConnectors(cmd, async (connectors, where) => {
        const stopped = await connectors.stop(name);
        if (o.json) return printJson(stopped);
        console.log(
          where.remote
            ? `connector ${stopped.name} stopped (written ${formatCount(stopped.counts.written)}, checkpoint saved ${stopped.checkpointSavedAt ?? "never"})`
            : `connector ${stopped.name} is not running (no server runs for ${where.stateDir}); marked stopped: \`hourglass up\` will not start it`,
        );
      });
    });

  connector
    .command("delete <name>")
    .description("stop a connector and delete its definition and checkpoint (records on the stream stay)")
    .addHelpText("after", "\nExample:\n  hourglass connector delete metrics-to-table")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withConnectors(cmd, async (connectors) => {
        await connectors.delete(name);
        console.log(`deleted connector ${name}`);
      });
    });
}
