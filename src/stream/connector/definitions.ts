/**
 * Connector definitions: the connectors a Hourglass server runs, kept in one small JSON file,
 * `<stateDir>/connectors.json`, next to the checkpoint folder `<stateDir>/connectors/`. The file
 * says what each connector moves where and whether it should run; its progress is in its
 * checkpoint. The file is replaced atomically (temp file, fsync, rename, fsync of the folder), so a
 * crash leaves the old list or the new one.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { HourglassError, validationError } from "../../errors.js";
import { maxStreamNameChars } from "../limits.js";
import { validateStreamName } from "../validate.js";
import { validateConnectorName } from "./checkpoint.js";
import { defaultBatchSize, defaultMaxDelayMs, maxBatchSize } from "./options.js";
import { parseStartPosition } from "./settings.js";
import type { ConnectorMapping } from "./types.js";

export interface ConnectorDefinition {
  name: string;
  stream: string;
  database: string;
  table: string;
  mapping: ConnectorMapping;
  batchSize: number;
  maxDelayMs: number;
  /** `trim-horizon`, `latest`, or an ISO time: where shards without a checkpoint start. */
  from: string;
  deadLetterStream: string;
  /** Whether the server runs it (true after create and start, false after stop). */
  enabled: boolean;
  createdAt: string;
}

/** What a client sends to create a connector: the options of `connector run`, name included. */
export interface ConnectorDefinitionInput {
  name: string;
  stream: string;
  database: string;
  table: string;
  mapping?: ConnectorMapping;
  batchSize?: number;
  maxDelayMs?: number;
  from?: string;
  deadLetterStream?: string;
  /** Start it at once (default true); false creates it stopped. */
  start?: boolean;
}

export { parseStartPosition };

export const definitionInputSchema = z
  .object({
    name: z.string(),
    stream: z.string(),
    database: z.string().min(1, "must not be empty"),
    table: z.string().min(1, "must not be empty"),
    mapping: z.enum(["single", "flat", "auto"]).optional(),
    batchSize: z.number().int().min(1).max(maxBatchSize).optional(),
    maxDelayMs: z.number().int().min(0).max(3_600_000).optional(),
    from: z.string().optional(),
    deadLetterStream: z.string().optional(),
    start: z.boolean().optional(),
  })
  .strict();

const definitionSchema = z.object({
  name: z.string(),
  stream: z.string(),
  database: z.string(),
  table: z.string(),
  mapping: z.enum(["single", "flat", "auto"]),
  batchSize: z.number().int(),
  maxDelayMs: z.number().int(),
  from: z.string(),
  deadLetterStream: z.string(),
  enabled: z.boolean(),
  createdAt: z.string(),
});

const fileSchema = z.object({ version: z.literal(1), connectors: z.array(definitionSchema) });

/** Checks an input (from the CLI or a request body) and completes it with the defaults. */
export function definitionFromInput(input: unknown, nowMs: number): ConnectorDefinition {
  const parsed = definitionInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    throw validationError(`invalid connector definition: ${problems}`);
  }
  const body = parsed.data;
  const name = validateConnectorName(body.name);
  const stream = validateStreamName(body.stream);
  const from = body.from ?? "trim-horizon";
  parseStartPosition(from);
  let deadLetterStream = body.deadLetterStream;
  if (deadLetterStream === undefined) {
    if (stream.length + "-deadletter".length > maxStreamNameChars) {
      throw validationError(
        `stream name ${stream} is too long to add "-deadletter" for the dead-letter stream: name one with deadLetterStream`,
      );
    }
    deadLetterStream = `${stream}-deadletter`;
  }
  validateStreamName(deadLetterStream);
  if (deadLetterStream === stream)
    throw validationError("the dead-letter stream must not be the source stream");
  return {
    name,
    stream,
    database: body.database,
    table: body.table,
    mapping: body.mapping ?? "single",
    batchSize: body.batchSize ?? defaultBatchSize,
    maxDelayMs: body.maxDelayMs ?? defaultMaxDelayMs,
    from,
    deadLetterStream,
    enabled: body.start ?? true,
    createdAt: new Date(nowMs).toISOString(),
  };
}

export const definitionsPath = (stateDir: string): string => path.join(stateDir, "connectors.json");

/** The definitions saved in the state folder (none when the file does not exist). */
export async function readDefinitions(stateDir: string): Promise<ConnectorDefinition[]> {
  const file = definitionsPath(stateDir);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  try {
    return fileSchema.parse(JSON.parse(text)).connectors;
  } catch (error) {
    throw new HourglassError(
      "Internal",
      `connector definitions file ${file} is damaged (${(error as Error).message}): fix it by hand or move it away`,
      { cause: error },
    );
  }
}

/** Replaces the definitions file atomically and durably. */
export async function writeDefinitions(stateDir: string, definitions: ConnectorDefinition[]): Promise<void> {
  const file = definitionsPath(stateDir);
  await fs.mkdir(stateDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temp, "w");
  try {
    const sorted = [...definitions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    await handle.writeFile(`${JSON.stringify({ version: 1, connectors: sorted }, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  const folder = await fs.open(stateDir, "r");
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
