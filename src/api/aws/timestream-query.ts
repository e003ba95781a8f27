/**
 * Timestream Query (`Timestream_20181101.*`, JSON 1.0): Query with MaxRows/NextToken paging,
 * CancelQuery, PrepareQuery. DescribeEndpoints is shared with Timestream Write (same target prefix).
 */
import { z } from "zod";
import { validationError } from "../../errors.js";
import { tokenize } from "../../sql/index.js";
import type { QueryResponse } from "../../store/index.js";
import type { AwsBackends } from "./backends.js";
import { type Operation, parseInput } from "./protocol.js";

/** Timestream's limit on the length of a query. */
const maxQueryStringChars = 262_144;
/** How long an UNLOAD's answer is kept for a retry with the same ClientToken. */
const clientTokenTtlMs = 5 * 60_000;

/** True when the statement is an UNLOAD (the first token, after comments, is the word UNLOAD). */
function isUnload(queryString: string): boolean {
  try {
    const first = tokenize(queryString)[0];
    return first?.kind === "word" && first.upper === "UNLOAD";
  } catch {
    return false; // the query's own run reports the syntax error
  }
}

export function timestreamQueryOperations(backends: AwsBackends): Record<string, Operation> {
  const { store } = backends;
  // An UNLOAD writes files: the SDKs retry a call with the same ClientToken, which must not write
  // them twice. Its answer is kept by token for a few minutes (a SELECT has no side effects).
  const unloads = new Map<string, { queryString: string; response: Promise<object>; expiresMs: number }>();
  return {
    async Query(input, context) {
      const req = parseInput(
        z.object({
          QueryString: z.string().min(1).max(maxQueryStringChars),
          // An idempotency token the SDKs fill in; a query here has no side effects to protect.
          ClientToken: z.string().optional(),
          NextToken: z.string().optional(),
          MaxRows: z.number().int().min(1).max(1000).optional(),
          QueryInsights: z.unknown().optional(),
        }),
        input,
        "Query",
      );
      const run = async () =>
        queryShape(
          await store.query(
            {
              QueryString: req.QueryString,
              ...(req.MaxRows === undefined ? {} : { MaxRows: req.MaxRows }),
              ...(req.NextToken === undefined ? {} : { NextToken: req.NextToken }),
            },
            { signal: context.signal },
          ),
        );
      if (req.ClientToken === undefined || req.NextToken !== undefined || !isUnload(req.QueryString)) {
        return run();
      }
      const now = Date.now();
      for (const [token, entry] of unloads) if (entry.expiresMs < now) unloads.delete(token);
      const earlier = unloads.get(req.ClientToken);
      if (earlier && earlier.queryString === req.QueryString) {
        try {
          return await earlier.response;
        } catch {
          // The first try failed (or its client went away): this one runs it again.
        }
      }
      const token = req.ClientToken;
      const entry = { queryString: req.QueryString, response: run(), expiresMs: now + clientTokenTtlMs };
      unloads.set(token, entry);
      entry.response.catch(() => {
        if (unloads.get(token) === entry) unloads.delete(token);
      });
      return entry.response;
    },

    async CancelQuery(input) {
      const req = parseInput(z.object({ QueryId: z.string().min(1) }), input, "CancelQuery");
      store.cancelQuery?.(req.QueryId);
      return { CancellationMessage: `query ${req.QueryId} is cancelled; its paging tokens no longer work` };
    },

    async PrepareQuery(input) {
      const req = parseInput(
        z.object({
          QueryString: z.string().min(1).max(maxQueryStringChars),
          ValidateOnly: z.boolean().optional(),
        }),
        input,
        "PrepareQuery",
      );
      // The column types come from running the query for one row (then the cursor is dropped);
      // query parameters (@name) are not supported, so Parameters is always empty. An UNLOAD
      // would write its files: it is refused.
      if (isUnload(req.QueryString)) {
        throw validationError("PrepareQuery takes a SELECT; UNLOAD runs only through Query");
      }
      const first = await store.query({ QueryString: req.QueryString, MaxRows: 1 });
      if (first.NextToken) store.cancelQuery?.(first.NextToken);
      return {
        QueryString: req.QueryString,
        Columns: first.ColumnInfo.map((c) => ({ Name: c.Name, Type: c.Type, Aliased: false })),
        Parameters: [],
      };
    },
  };
}

/** Only the members Timestream defines, so an SDK sees exactly its model's shape. */
function queryShape(r: QueryResponse): object {
  return {
    QueryId: r.QueryId,
    Rows: r.Rows,
    ColumnInfo: r.ColumnInfo,
    ...(r.NextToken ? { NextToken: r.NextToken } : {}),
    QueryStatus: r.QueryStatus,
  };
}
