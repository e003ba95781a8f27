/**
 * Paging of list operations: the NextToken is the (opaque, base64url) key of the last item
 * returned, so a page stays right when items are added or removed between calls.
 */
import { protocolError } from "./protocol.js";

export function encodePageToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey }), "utf8").toString("base64url");
}

/** The key to continue after; a token this server did not make is an error named `awsCode`. */
export function decodePageToken(token: string, awsCode: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string") return parsed.after;
  } catch {
    // falls through to the error below
  }
  throw protocolError(awsCode, "NextToken is not a token this server returned");
}

/** One page of `items` (sorted by `keyOf`) after `afterKey`, with the token for the next page if any. */
export function pageOf<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  afterKey: string | undefined,
  limit: number,
): { page: T[]; nextToken?: string } {
  const start = afterKey === undefined ? 0 : items.findIndex((item) => keyOf(item) > afterKey);
  const rest = start < 0 ? [] : items.slice(start);
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return rest.length > limit && last !== undefined
    ? { page, nextToken: encodePageToken(keyOf(last)) }
    : { page };
}
