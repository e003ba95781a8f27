/**
 * Timestream Query (`Timestream_20181101.*`, JSON 1.0): Query with MaxRows/NextToken paging,
 * CancelQuery, PrepareQuery. DescribeEndpoints is shared with Timestream Write (same target prefix).
 */
import { z } from "zod";
import type { QueryResponse } from "../../store/types.js";
import type { AwsBackends } from "./backends.js";
import { type Operation, parseInput } from "./protocol.js";

/** Timestream's limit on the length of a query. */
const maxQueryStringChars = 262_144;

export function timestreamQueryOperations(backends: AwsBackends): Record<string, Operation> {
  const { store } = backends;
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
      const response = await store.query(
        {
          QueryString: req.QueryString,
          ...(req.MaxRows === undefined ? {} : { MaxRows: req.MaxRows }),
          ...(req.NextToken === undefined ? {} : { NextToken: req.NextToken }),
        },
        { signal: context.signal },
      );
      return queryShape(response);
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
      // query parameters (@name) are not supported, so Parameters is always empty.
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
