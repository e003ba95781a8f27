import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "./fs-durability.js";

/** One shard of the layout (see shard-layout.ts). Hash keys are decimal strings. */
const shardMetaSchema = z.object({
  index: z.number().int().nonnegative(),
  startingHashKey: z.string().regex(/^[0-9]+$/),
  endingHashKey: z.string().regex(/^[0-9]+$/),
  parent: z.number().int().nonnegative().optional(),
  adjacentParent: z.number().int().nonnegative().optional(),
  createdMs: z.number().int().nonnegative(),
  /** Set when a split or merge closed the shard: the offset of its last record, -1 when it had none. */
  endingOffset: z.number().int().min(-1).optional(),
  closedMs: z.number().int().nonnegative().optional(),
});

export type ShardMeta = z.infer<typeof shardMetaSchema>;

/**
 * What a stream folder's stream.json holds; segment files hold everything else. `shards` appears
 * with the first reshard (a stream without it has `shardCount` even shards); `shardCount` then
 * counts the open shards. The file is replaced atomically, so a reshard takes effect whole or not
 * at all.
 */
const streamMetaSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  shardCount: z.number().int().positive(),
  retentionHours: z.number().int().positive(),
  createdMs: z.number().int().nonnegative(),
  shards: z.array(shardMetaSchema).optional(),
  /** When UpdateShardCount ran (epoch ms), for its limit of 10 a rolling 24 hours. */
  scalings: z.array(z.number().int().nonnegative()).optional(),
});

export type StreamMeta = z.infer<typeof streamMetaSchema>;

export const streamMetaFileName = "stream.json";

export async function readStreamMeta(streamDir: string): Promise<StreamMeta> {
  const text = await readFile(path.join(streamDir, streamMetaFileName), "utf8");
  return streamMetaSchema.parse(JSON.parse(text));
}

export async function writeStreamMeta(streamDir: string, meta: StreamMeta, sync: boolean): Promise<void> {
  await writeFileAtomic(
    path.join(streamDir, streamMetaFileName),
    `${JSON.stringify(meta, null, 2)}\n`,
    streamDir,
    sync,
  );
}
