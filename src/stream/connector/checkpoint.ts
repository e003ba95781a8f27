/**
 * Checkpoints: one small JSON file per connector, `<stateDir>/connectors/<name>.json`, holding the
 * last sequence number of each shard that is in the store. It is replaced atomically (write a temp
 * file, fsync it, rename it over the old one, fsync the folder), so a crash leaves the old file or
 * the new one, never a mix, and a saved checkpoint survives a power loss.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { HourglassError, validationError } from "../../errors.js";
import type { ConnectorCounts, ConnectorMapping } from "./types.js";

const namePattern = /^[a-zA-Z0-9_.-]{1,128}$/;

export interface Checkpoint {
  version: 1;
  name: string;
  stream: string;
  /** The stream's creation time (epoch ms): a stream deleted and created again starts over. */
  streamCreatedMs: number;
  database: string;
  table: string;
  mapping: ConnectorMapping;
  /** Shard id → last sequence number written to the store. */
  shards: Record<string, string>;
  /** Totals since the connector first ran (records of a batch re-read after a crash count again). */
  counts: ConnectorCounts;
  /** Lag when the checkpoint was saved, for `connector status` while a connector runs elsewhere. */
  lag: { records: number; millisBehindLatest: number; recordsPerSecond: number };
  updatedAt: string;
}

const countsSchema = z.object({
  read: z.number(),
  written: z.number(),
  rejected: z.number(),
  parseFailed: z.number(),
  deadLettered: z.number(),
  batches: z.number(),
  retries: z.number(),
});

const checkpointSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  stream: z.string(),
  streamCreatedMs: z.number(),
  database: z.string(),
  table: z.string(),
  mapping: z.enum(["single", "flat", "auto"]),
  shards: z.record(z.string(), z.string()),
  counts: countsSchema,
  lag: z.object({ records: z.number(), millisBehindLatest: z.number(), recordsPerSecond: z.number() }),
  updatedAt: z.string(),
});

export function validateConnectorName(name: unknown): string {
  if (typeof name !== "string" || !namePattern.test(name) || name === "." || name === "..") {
    throw validationError(
      `connector name ${JSON.stringify(name)} must be 1..128 characters of a-z A-Z 0-9 _ . - (it names a file)`,
    );
  }
  return name;
}

export const checkpointDir = (stateDir: string): string => path.join(stateDir, "connectors");

export const checkpointPath = (stateDir: string, name: string): string =>
  path.join(checkpointDir(stateDir), `${validateConnectorName(name)}.json`);

/** The saved checkpoint, or null when the connector never saved one. */
export async function readCheckpoint(stateDir: string, name: string): Promise<Checkpoint | null> {
  const file = checkpointPath(stateDir, name);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    return checkpointSchema.parse(JSON.parse(text)) as Checkpoint;
  } catch (error) {
    throw new HourglassError("Internal", `checkpoint file ${file} is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Names of the connectors that have a checkpoint in this state folder. */
export async function listCheckpoints(stateDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(checkpointDir(stateDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -".json".length))
    .sort();
}

/** Replaces the checkpoint file atomically and durably. */
export async function writeCheckpoint(stateDir: string, checkpoint: Checkpoint): Promise<void> {
  const dir = checkpointDir(stateDir);
  const file = checkpointPath(stateDir, checkpoint.name);
  await fs.mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temp, "w");
  try {
    await handle.writeFile(`${JSON.stringify(checkpoint, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  const folder = await fs.open(dir, "r");
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
