/**
 * Connectors as managed resources: the calls to create, list, describe, start, stop and delete
 * them (ConnectorAdmin), the description every client sees, and the admin that works on the state
 * folder's definitions file while no server runs (OfflineConnectors). The server's admin is
 * ConnectorManager (manager.ts); the CLI reaches it over HTTP (RemoteConnectors in src/api/client.ts).
 */
import fs from "node:fs/promises";
import { conflict, notFound } from "../../errors.js";
import { parseSequenceNumber } from "../sequence-number.js";
import type { StreamService } from "../types.js";
import { type Checkpoint, checkpointPath, readCheckpoint, validateConnectorName } from "./checkpoint.js";
import {
  type ConnectorDefinition,
  type ConnectorDefinitionInput,
  definitionFromInput,
  readDefinitions,
  writeDefinitions,
} from "./definitions.js";
import type { ConnectorCounts, ConnectorState, ConnectorStatus } from "./types.js";

export interface ConnectorShardDescription {
  shardId: string;
  /** Last sequence number in the store (checkpointed); null before the first. */
  checkpoint: string | null;
  /** Records in the shard after the checkpoint; null when unknown (no server, or no stream). */
  behindRecords: number | null;
  /** Kinesis's MillisBehindLatest for the next record to write; null when unknown. */
  millisBehindLatest: number | null;
}

/** A connector as `connector describe` and `GET /api/v1/connectors/:name` show it. */
export interface ConnectorDescription extends ConnectorDefinition {
  state: ConnectorState;
  /** Why it is stopped or failed, and what to do; null while it runs. */
  reason: string | null;
  startedAt: string | null;
  shards: ConnectorShardDescription[];
  /** Sum of behindRecords and maximum of millisBehindLatest over the shards (null: unknown). */
  lag: { records: number | null; millisBehindLatest: number | null };
  recordsPerSecond: number;
  /** Totals since the connector first ran (from its checkpoint while it does not run). */
  counts: ConnectorCounts;
  lastBatchAt: string | null;
  lastError: ConnectorStatus["lastError"];
  /** When the checkpoint was last saved; null when it never was. */
  checkpointSavedAt: string | null;
}

/** The same calls in the server (ConnectorManager), over HTTP, and on the state folder. */
export interface ConnectorAdmin {
  create(input: ConnectorDefinitionInput): Promise<ConnectorDescription>;
  list(): Promise<ConnectorDescription[]>;
  describe(name: string): Promise<ConnectorDescription>;
  start(name: string): Promise<ConnectorDescription>;
  stop(name: string): Promise<ConnectorDescription>;
  delete(name: string): Promise<void>;
}

export const zeroCounts = (): ConnectorCounts => ({
  read: 0,
  written: 0,
  rejected: 0,
  parseFailed: 0,
  deadLettered: 0,
  batches: 0,
  retries: 0,
});

export const unknownConnector = (name: string, where: string): Error =>
  notFound(`no connector named ${name} in ${where}: \`hourglass connector list\` shows them`, {
    connector: name,
  });

export const duplicateConnector = (name: string): Error =>
  conflict(
    `a connector named ${name} already exists: pick another name, or delete it first (hourglass connector delete ${name})`,
    { connector: name },
  );

/** The checkpoint of this definition, or null when there is none or it is another connector's. */
export async function checkpointOf(
  stateDir: string,
  definition: ConnectorDefinition,
): Promise<Checkpoint | null> {
  const checkpoint = await readCheckpoint(stateDir, definition.name);
  if (
    checkpoint === null ||
    checkpoint.stream !== definition.stream ||
    checkpoint.database !== definition.database ||
    checkpoint.table !== definition.table
  ) {
    return null;
  }
  return checkpoint;
}

/** A running (or finished) connector's status as a description. */
export function describeRunning(
  definition: ConnectorDefinition,
  status: ConnectorStatus,
  reason: string | null,
  savedAt: string | null,
): ConnectorDescription {
  return {
    ...definition,
    state: status.state,
    reason,
    startedAt: status.startedAt,
    shards: status.shards.map((s) => ({
      shardId: s.shardId,
      checkpoint: s.checkpoint,
      behindRecords: s.behindRecords,
      millisBehindLatest: s.millisBehindLatest,
    })),
    lag: { ...status.lag },
    recordsPerSecond: status.recordsPerSecond,
    counts: status.counts,
    lastBatchAt: status.lastBatchAt,
    lastError: status.lastError,
    checkpointSavedAt: savedAt,
  };
}

/**
 * A connector that does not run, from its checkpoint; with `streams`, its lag is measured on the
 * stream now (records after the checkpoint, and how long ago the first of them arrived before the newest).
 */
export async function describeIdle(
  stateDir: string,
  definition: ConnectorDefinition,
  state: ConnectorState,
  reason: string,
  streams?: Pick<StreamService, "getShardStats" | "getShardIterator" | "getRecordPage">,
): Promise<ConnectorDescription> {
  const checkpoint = await checkpointOf(stateDir, definition);
  const saved = checkpoint?.shards ?? {};
  let shards: ConnectorShardDescription[] = Object.entries(saved).map(([shardId, sequenceNumber]) => ({
    shardId,
    checkpoint: sequenceNumber,
    behindRecords: null,
    millisBehindLatest: null,
  }));
  if (streams) {
    try {
      const stats = await streams.getShardStats(definition.stream);
      shards = await Promise.all(
        stats.map((s) => idleShardLag(streams, definition.stream, s, saved[s.ShardId] ?? null)),
      );
    } catch {
      // The stream does not exist (the reason says so when it matters): lag unknown.
    }
  }
  const known = shards.length > 0 && shards.every((s) => s.behindRecords !== null);
  return {
    ...definition,
    state,
    reason,
    startedAt: null,
    shards: shards.sort((a, b) => (a.shardId < b.shardId ? -1 : 1)),
    lag: known
      ? {
          records: shards.reduce((sum, s) => sum + (s.behindRecords ?? 0), 0),
          millisBehindLatest: shards.reduce((max, s) => Math.max(max, s.millisBehindLatest ?? 0), 0),
        }
      : { records: null, millisBehindLatest: null },
    recordsPerSecond: 0,
    counts: checkpoint ? { ...checkpoint.counts } : zeroCounts(),
    lastBatchAt: null,
    lastError: null,
    checkpointSavedAt: checkpoint?.updatedAt ?? null,
  };
}

async function idleShardLag(
  streams: Pick<StreamService, "getShardIterator" | "getRecordPage">,
  stream: string,
  stats: Awaited<ReturnType<StreamService["getShardStats"]>>[number],
  checkpoint: string | null,
): Promise<ConnectorShardDescription> {
  const lastOffset =
    stats.LastSequenceNumber === null ? -1 : parseSequenceNumber(stats.LastSequenceNumber).offset;
  const firstOffset =
    stats.FirstSequenceNumber === null
      ? lastOffset + 1
      : parseSequenceNumber(stats.FirstSequenceNumber).offset;
  const nextOffset =
    checkpoint === null ? firstOffset : Math.max(firstOffset, parseSequenceNumber(checkpoint).offset + 1);
  const behindRecords = Math.max(0, lastOffset + 1 - nextOffset);
  let millisBehindLatest = 0;
  if (behindRecords > 0 && stats.LastArrivalTimestamp !== null) {
    const iterator =
      checkpoint === null
        ? await streams.getShardIterator(stream, stats.ShardId, "TRIM_HORIZON")
        : await streams.getShardIterator(stream, stats.ShardId, "AFTER_SEQUENCE_NUMBER", {
            StartingSequenceNumber: checkpoint,
          });
    const { page } = await streams.getRecordPage(iterator, 1);
    if (page.count > 0)
      millisBehindLatest = Math.max(0, stats.LastArrivalTimestamp.getTime() - page.arrivalMs(0));
  }
  return { shardId: stats.ShardId, checkpoint, behindRecords, millisBehindLatest };
}

/** Removes a connector's checkpoint file (a connector created again under its name starts over). */
export async function removeCheckpoint(stateDir: string, name: string): Promise<void> {
  await fs.rm(checkpointPath(stateDir, name), { force: true });
}

/**
 * The definitions file of a state folder while no server runs: create, list, describe and delete
 * work on the file; nothing runs here, so `start` refuses (it points to `hourglass up` and
 * `connector run`) and `stop` only records that the next server must not start it.
 */
export class OfflineConnectors implements ConnectorAdmin {
  constructor(
    private readonly stateDir: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(input: ConnectorDefinitionInput): Promise<ConnectorDescription> {
    const definition = definitionFromInput(input, this.clock());
    const definitions = await readDefinitions(this.stateDir);
    if (definitions.some((d) => d.name === definition.name)) throw duplicateConnector(definition.name);
    await writeDefinitions(this.stateDir, [...definitions, definition]);
    return this.idle(definition);
  }

  async list(): Promise<ConnectorDescription[]> {
    const definitions = await readDefinitions(this.stateDir);
    return Promise.all(definitions.map((d) => this.idle(d)));
  }

  async describe(name: string): Promise<ConnectorDescription> {
    return this.idle(await this.find(name));
  }

  async start(name: string): Promise<ConnectorDescription> {
    const definition = await this.find(name);
    throw conflict(
      `no Hourglass server runs for ${this.stateDir}, so nothing can run connector ${name}: ` +
        `start one with \`hourglass up\` (it starts every connector not stopped with \`connector stop\`${definition.enabled ? ", this one included" : ""}), ` +
        `or run it in this terminal with \`hourglass connector run --name ${name} --stream ${definition.stream} --database ${definition.database} --table ${definition.table}\``,
      { connector: name },
    );
  }

  async stop(name: string): Promise<ConnectorDescription> {
    validateConnectorName(name);
    const definitions = await readDefinitions(this.stateDir);
    const definition = definitions.find((d) => d.name === name);
    if (!definition) throw unknownConnector(name, this.stateDir);
    if (definition.enabled) {
      definition.enabled = false;
      await writeDefinitions(this.stateDir, definitions);
    }
    return this.idle(definition);
  }

  async delete(name: string): Promise<void> {
    validateConnectorName(name);
    const definitions = await readDefinitions(this.stateDir);
    if (!definitions.some((d) => d.name === name)) throw unknownConnector(name, this.stateDir);
    await writeDefinitions(
      this.stateDir,
      definitions.filter((d) => d.name !== name),
    );
    await removeCheckpoint(this.stateDir, name);
  }

  private async find(name: string): Promise<ConnectorDefinition> {
    validateConnectorName(name);
    const definition = (await readDefinitions(this.stateDir)).find((d) => d.name === name);
    if (!definition) throw unknownConnector(name, this.stateDir);
    return definition;
  }

  private idle(definition: ConnectorDefinition): Promise<ConnectorDescription> {
    const reason = definition.enabled
      ? "no Hourglass server runs for this state folder: `hourglass up` starts it"
      : "stopped with `connector stop`: `hourglass connector start` (with `hourglass up` running) starts it";
    return describeIdle(this.stateDir, definition, "stopped", reason);
  }
}
