/**
 * `hourglass connector run | status`: runs the stream → store connector in this process until
 * Ctrl+C, or shows the positions saved in a connector's checkpoint file. The managed connectors
 * of the server (create, list, describe, start, stop, delete) are in connector-admin.ts.
 */
import { type Command, Option } from "commander";
import { conflict, notFound } from "../errors.js";
import type { TimestreamStore } from "../store/index.js";
import type { Checkpoint, ConnectorMapping, ConnectorStatus } from "../stream/connector/index.js";
// The settings module, not the part's index.ts: --help shows these defaults without loading the
// connector (see main.ts); the connector itself is imported when a command runs.
import { defaultBatchSize, defaultMaxDelayMs, parseStartPosition } from "../stream/connector/settings.js";
import { registerConnectorAdmin, startPositionOption } from "./connector-admin.js";
import { configFrom, serverUrl } from "./context.js";
import { printJson, renderTable } from "./output.js";
import { formatCount } from "./progress.js";
import { integerOption } from "./stream.js";

interface RunFlags {
  stream: string;
  database: string;
  table: string;
  mapping: ConnectorMapping;
  batchSize: number;
  maxDelayMs: number;
  from: string;
  name?: string;
  deadLetterStream?: string;
  statusInterval: number;
}

export function statusLine(status: ConnectorStatus): string {
  const c = status.counts;
  return (
    `[${new Date().toISOString()}] connector ${status.name} ${status.state}: ` +
    `written ${formatCount(c.written)}  rejected ${formatCount(c.rejected)}  ` +
    `parse-failed ${formatCount(c.parseFailed)}  dead-lettered ${formatCount(c.deadLettered)}  ` +
    `lag ${formatCount(status.lag.records)} records / ${formatCount(status.lag.millisBehindLatest)} ms  ` +
    `${formatCount(status.recordsPerSecond)} records/s`
  );
}

export function registerConnector(program: Command): void {
  const connector = program
    .command("connector")
    .description("the stream → store connector (the seed's Flink Timestream connector)");

  connector
    .command("run")
    .description(
      "move a stream's records into a table until Ctrl+C, with checkpoints and a dead-letter stream",
    )
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
    .option("--name <name>", "connector name: names its checkpoint (default: the stream's name)")
    .option(
      "--dead-letter-stream <name>",
      "where records that cannot be stored go (default <stream>-deadletter)",
    )
    .option("--status-interval <seconds>", "print a status line this often", integerOption(1, 86_400), 10)
    .addHelpText(
      "after",
      `
Example:
  hourglass connector run --stream airflow-timestream --database airflow-db --table airflow-table

Ctrl+C (or SIGTERM) finishes the batch in hand, saves the checkpoint and exits 0. The next run
resumes after the checkpoint. Records that cannot be parsed or that the store rejects go to the
dead-letter stream with their reason. When \`hourglass up\` runs for this state folder this command
refuses: create a managed connector on the server instead (\`hourglass connector create\`), which
the server runs and resumes after a restart.`,
    )
    .action(async (o: RunFlags, cmd: Command) => {
      await runConnector(o, cmd);
    });

  registerConnectorAdmin(connector);

  connector
    .command("status")
    .description("show a connector's checkpoint: positions per shard, counts, lag when it was saved")
    .option("--name <name>", "connector name (default: every connector of the state folder)")
    .option("--json", "print the checkpoint file(s) as JSON")
    .addHelpText("after", "\nExample:\n  hourglass connector status --name airflow-timestream")
    .action(async (o: { name?: string; json?: boolean }, cmd: Command) => {
      const { stateDir } = await configFrom(cmd);
      const { checkpointPath, listCheckpoints, readCheckpoint } = await import(
        "../stream/connector/index.js"
      );
      const names = o.name ? [o.name] : await listCheckpoints(stateDir);
      const checkpoints: Checkpoint[] = [];
      for (const name of names) {
        const checkpoint = await readCheckpoint(stateDir, name);
        if (!checkpoint) {
          throw notFound(
            `connector ${name} has no checkpoint (${checkpointPath(stateDir, name)}): it never wrote a batch`,
          );
        }
        checkpoints.push(checkpoint);
      }
      if (o.json) return printJson(o.name ? checkpoints[0] : checkpoints);
      if (checkpoints.length === 0) {
        console.log(`no connector checkpoints in ${stateDir}`);
        return;
      }
      console.log(checkpoints.map(describeCheckpoint).join("\n\n"));
    });
}

function describeCheckpoint(c: Checkpoint): string {
  const counts = c.counts;
  return [
    `connector ${c.name}: ${c.stream} → ${c.database}.${c.table} (mapping ${c.mapping}), saved ${c.updatedAt}`,
    `  written ${formatCount(counts.written)}  rejected ${formatCount(counts.rejected)}  parse-failed ${formatCount(counts.parseFailed)}  dead-lettered ${formatCount(counts.deadLettered)}  batches ${formatCount(counts.batches)}`,
    `  lag when saved: ${formatCount(c.lag.records)} records, ${formatCount(c.lag.millisBehindLatest)} ms; ${formatCount(c.lag.recordsPerSecond)} records/s`,
    renderTable(
      ["Shard", "Checkpoint (last sequence number in the store)"],
      Object.entries(c.shards)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([shard, seq]) => [shard, seq]),
    )
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n"),
  ].join("\n");
}

async function runConnector(o: RunFlags, cmd: Command): Promise<void> {
  const config = await configFrom(cmd);
  const url = serverUrl(cmd, config);
  if (url) {
    // The server holds the state folder's stream and store: a second process cannot open them.
    const name = o.name ?? o.stream;
    throw conflict(
      `a Hourglass server runs for ${config.stateDir} (${url}): it runs connectors you create on it, ` +
        `e.g. \`hourglass connector create ${name} --stream ${o.stream} --database ${o.database} --table ${o.table}\`; ` +
        "or stop the server to run one in this terminal",
    );
  }
  const [{ TimestreamStore }, { openStreamService }, { startConnector }] = await Promise.all([
    import("../store/index.js"),
    import("../stream/index.js"),
    import("../stream/connector/index.js"),
  ]);
  const streams = await openStreamService({ dir: config.stateDir });
  let store: TimestreamStore | undefined;
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl+C: leave now; the checkpoint is behind, so the next run writes some records again.
      process.stderr.write(`${signal} again: exiting without finishing the batch\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`${signal}: finishing the batch in hand and saving the checkpoint\n`);
    void running?.stop().catch(() => undefined);
  };
  let running: Awaited<ReturnType<typeof startConnector>> | undefined;
  for (const signal of signals) process.on(signal, onSignal);
  let timer: NodeJS.Timeout | undefined;
  try {
    store = await TimestreamStore.open({ dir: config.stateDir });
    running = await startConnector({
      streams,
      store,
      stream: o.stream,
      database: o.database,
      table: o.table,
      stateDir: config.stateDir,
      mapping: o.mapping,
      batchSize: o.batchSize,
      maxDelayMs: o.maxDelayMs,
      from: parseStartPosition(o.from),
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.deadLetterStream === undefined ? {} : { deadLetterStream: o.deadLetterStream }),
    });
    const connector = running;
    if (stopping) void connector.stop();
    const status = connector.status();
    const resumed = status.shards.some((s) => s.checkpoint !== null);
    console.log(
      `connector ${status.name}: ${o.stream} → ${o.database}.${o.table}, mapping ${o.mapping}, ${status.shards.length} shard(s), ` +
        `${resumed ? "resuming after its checkpoint" : `from ${o.from}`}; dead letters to ${status.deadLetterStream}`,
    );
    connector.on("error", ({ error, retrying, delayMs }) => {
      process.stderr.write(
        `${retrying ? "warning" : "error"}: ${error.message}${delayMs === undefined ? "" : ` (retrying in ${delayMs} ms)`}\n`,
      );
    });
    timer = setInterval(() => console.log(statusLine(connector.status())), o.statusInterval * 1000);
    const final = await connector.done;
    console.log(statusLine(final));
  } finally {
    clearInterval(timer);
    for (const signal of signals) process.off(signal, onSignal);
    await store?.close();
    await streams.close();
  }
}
