/**
 * Tags of Timestream databases and tables, kept in memory: Hourglass has no use for them yet (the
 * `access/` part may use them in policies), so they last as long as the server process. Limits as
 * Timestream's: keys of 1–128 characters, values of 0–256, at most 200 tags a resource.
 */
import { z } from "zod";
import { HourglassError } from "../../errors.js";

export interface Tag {
  Key: string;
  Value: string;
}

export const maxTagsPerResource = 200;

/** A request's tag list, checked before anything is created with it. */
export const tagListSchema = z
  .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) }))
  .max(maxTagsPerResource);

export class TagStore {
  private readonly byArn = new Map<string, Map<string, string>>();

  list(arn: string): Tag[] {
    return [...(this.byArn.get(arn) ?? new Map<string, string>())].map(([Key, Value]) => ({ Key, Value }));
  }

  add(arn: string, tags: readonly Tag[]): void {
    const next = new Map(this.byArn.get(arn));
    for (const tag of tags) next.set(tag.Key, tag.Value);
    if (next.size > maxTagsPerResource) {
      throw new HourglassError(
        "ValidationError",
        `a resource may have at most ${maxTagsPerResource} tags; this would make ${next.size}`,
        { context: { awsCode: "ServiceQuotaExceededException" } },
      );
    }
    this.byArn.set(arn, next);
  }

  remove(arn: string, keys: readonly string[]): void {
    const tags = this.byArn.get(arn);
    if (!tags) return;
    for (const key of keys) tags.delete(key);
  }

  /** Forgets the tags of a deleted resource, so a new one of the same name starts without them. */
  forget(arn: string): void {
    this.byArn.delete(arn);
  }
}
