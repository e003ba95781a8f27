/**
 * Schemas every route shares: the REST error body, the ISO time text of responses, and
 * `checkedByService`, for a part of a body the service checks item by item itself.
 */
import { z } from "zod";
import type { ErrorCode } from "../../errors.js";
import { HTTP_STATUS } from "../errors.js";

const errorCodes = Object.keys(HTTP_STATUS) as [ErrorCode, ...ErrorCode[]];

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes).describe("what kind of failure; it picks the HTTP status"),
      message: z.string().describe("what was wrong, where, and what to do"),
      context: z
        .record(z.string(), z.unknown())
        .describe("the names and values involved; `requestId` for an internal error"),
    }),
  })
  .meta({ id: "Error", description: "Every REST failure: docs/api.md, Errors" });

/** Times in responses: ISO 8601 text in UTC. */
export const isoTime = z.string().describe("ISO 8601 time (UTC)");

/**
 * A schema that validates loosely but is documented as `shown`: for parts of a body that the
 * service checks one item at a time and answers per item (a bad record is rejected by index, the
 * others are written), so the route must not refuse the whole request for one bad item.
 */
export function checkedByService<T extends z.ZodType>(loose: T, shown: z.ZodType): T {
  return loose.meta({ documentedAs: shown });
}

/** The schema the document shows for one that checkedByService marked, if any. */
export function documentedAs(schema: z.ZodType): z.ZodType | undefined {
  const shown = schema.meta()?.["documentedAs"];
  return shown instanceof z.ZodType ? shown : undefined;
}
