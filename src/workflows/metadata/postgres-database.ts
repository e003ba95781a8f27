/**
 * The metadata database on PostgreSQL (pg's Pool under Kysely's PostgresDialect).
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { MetadataDatabase, Queries } from "./database.js";
import type { MetadataTables } from "./tables.js";

const int8Oid = 20;
/** deadlock_detected, serialization_failure: the transaction is rolled back and may simply run again. */
const retriedCodes = new Set(["40P01", "40001"]);
/**
 * Attempts in all. A retry can meet the same peer again (see retryDelayMs), so a busy machine may
 * need more than two.
 */
const maxAttempts = 5;
/** The first retry waits 25–75 ms; each further one twice as long. */
const firstRetryDelayMs = 50;

/**
 * How long a victim waits before running again. Not at once: when PostgreSQL rolls the victim back,
 * the survivor still has to wake up and take the row it was waiting for (it waited on the victim's
 * transaction id, not on the row). A retry sent at once can update that row first (the row's last
 * updater, the victim, aborted, so nothing stops it) and then want the survivor's row: the same
 * deadlock again, and on a loaded machine a third time, which used to exhaust the attempts. Seen
 * under load: 3 of 60 deadlocks ran a transaction three times. The jitter keeps two victims from
 * coming back in step.
 */
function retryDelayMs(attempt: number): number {
  return firstRetryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
}

/**
 * pg returns BIGINT (and COUNT) as strings because they may exceed 2^53; our BIGINTs are epoch
 * milliseconds and counts, far below it, so they are parsed as numbers (refusing any that is not safe).
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === int8Oid && format !== "binary") {
      return (value: string) => {
        const parsed = Number(value);
        if (!Number.isSafeInteger(parsed)) throw new RangeError(`BIGINT ${value} is beyond 2^53`);
        return parsed;
      };
    }
    return pg.types.getTypeParser(oid, format);
  },
};

/** The SQLSTATE of a failure, also when a store method already wrapped it (as its cause). */
function postgresCodeOf(error: unknown): string {
  for (
    let current = error, depth = 0;
    typeof current === "object" && current !== null && depth < 3;
    depth += 1
  ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return "";
}

export function openPostgresDatabase(url: string, schema: string): MetadataDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    // Every connection of the pool works in the store's schema; `schema` is a validated identifier.
    options: `-c search_path=${schema}`,
    types,
    max: 10,
  });
  // An idle connection that breaks emits 'error' on the pool; unhandled it would crash the
  // process. The next query gets a fresh connection or reports the failure itself.
  pool.on("error", () => {});
  const db = new Kysely<MetadataTables>({ dialect: new PostgresDialect({ pool }) });

  return {
    dialect: "postgres",
    db,
    async write<T>(work: (trx: Queries) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await db.transaction().execute((trx) => work(trx));
        } catch (error) {
          // PostgreSQL chose this transaction as a deadlock's victim (or could not serialize it):
          // it rolled back whole, so it is run again.
          if (attempt >= maxAttempts || !retriedCodes.has(postgresCodeOf(error))) throw error;
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
        }
      }
    },
    async close() {
      await db.destroy();
    },
  };
}
