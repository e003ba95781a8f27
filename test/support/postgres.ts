/**
 * Where the PostgreSQL tests find their server, and whether they can run.
 *
 * HOURGLASS_TEST_PG_URL names the server (default postgres://postgres@127.0.0.1:5432/test, the one
 * `.ci/run` starts: trust auth, database `test`); each test works in a fresh schema of its own. The
 * server is probed once per test file, when this module loads. Unreachable, every PostgreSQL test
 * is skipped, with a line saying why, and the SQLite half of each suite still runs. With
 * HOURGLASS_TEST_PG_REQUIRED=1 (as CI sets it) an unreachable server fails the tests instead of
 * skipping them.
 */
import pg from "pg";

export const postgresUrl = process.env.HOURGLASS_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432/test";

const required = process.env.HOURGLASS_TEST_PG_REQUIRED === "1";

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5_000 });
  // A connection that breaks after the probe must not crash the test file.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return (
      `PostgreSQL is not reachable at ${shown(postgresUrl)} (${error instanceof Error ? error.message : String(error)}): ` +
      "start it (see README.md, Tests) or set HOURGLASS_TEST_PG_URL"
    );
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await probe();
if (unreachable !== undefined) {
  console.log(
    `${required ? "the PostgreSQL tests will fail (HOURGLASS_TEST_PG_REQUIRED=1): " : "skipping the PostgreSQL tests: "}${unreachable}`,
  );
}

/**
 * Why the PostgreSQL tests of this file are skipped (pass it as `{ skip }` to describe or it), or
 * undefined when they run: the server answered, or HOURGLASS_TEST_PG_REQUIRED=1 wants them to fail.
 */
export const postgresSkipReason: string | undefined = required ? undefined : unreachable;
