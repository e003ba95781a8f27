import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "./fs-durability.js";

/** What a stream folder's stream.json holds; segment files hold everything else. */
const streamMetaSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  shardCount: z.number().int().positive(),
  retentionHours: z.number().int().positive(),
  createdMs: z.number().int().nonnegative(),
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
