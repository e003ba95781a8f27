import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { sql } from "kysely";
import { isHourglassError } from "../../src/errors.js";
import { openMetadata } from "../../src/workflows/metadata/index.js";
import { openSqliteDatabase } from "../../src/workflows/metadata/sqlite-database.js";
import { rejectsWith } from "./helpers.js";

describe("openMetadata", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-open-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("opens SQLite in WAL mode with synchronous=FULL, creating the folder", async () => {
    const filePath = path.join(dir, "state", "nested", "metadata.db");
    const store = await openMetadata({ url: `sqlite:${filePath}` });
    assert.equal(store.dialect, "sqlite");
    await store.close();
    const raw = openSqliteDatabase(filePath);
    try {
      const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(raw.db);
      assert.equal(mode.rows[0]?.journal_mode, "wal");
      const sync = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(raw.db);
      assert.equal(sync.rows[0]?.synchronous, 2, "FULL");
      const keys = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(raw.db);
      assert.equal(keys.rows[0]?.foreign_keys, 1);
    } finally {
      await raw.close();
    }
  });

  it("accepts sqlite:///abs/path too", async () => {
    const store = await openMetadata({ url: `sqlite://${path.join(dir, "triple.db")}` });
    await store.close();
    assert.ok(fs.existsSync(path.join(dir, "triple.db")));
  });

  it("refuses bad URLs and options with clear errors", async () => {
    await rejectsWith(openMetadata({ url: "" }), "ValidationError", /the metadata URL is empty/);
    await rejectsWith(
      openMetadata({ url: "mysql://localhost/db" }),
      "ValidationError",
      /unsupported metadata URL mysql:/,
    );
    await rejectsWith(
      openMetadata({ url: "sqlite:relative.db" }),
      "ValidationError",
      /needs an absolute path/,
    );
    await rejectsWith(
      openMetadata({ url: `sqlite:${path.join(dir, "x.db")}`, schema: "s" }),
      "ValidationError",
      /a schema can only be given for PostgreSQL/,
    );
    await rejectsWith(
      openMetadata({ url: "postgres://postgres@127.0.0.1:5432/test", schema: "Bad-Name" }),
      "ValidationError",
      /schema "Bad-Name" is not a valid schema name/,
    );
  });

  it("reports an unreachable PostgreSQL as a retryable failure", async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await assert.rejects(
      openMetadata({ url: "postgres://postgres@127.0.0.1:1/test", schema: "x" }),
      (error) => {
        assert.ok(isHourglassError(error, "Internal"), String(error));
        assert.equal(error.retryable, true);
        assert.match(error.message, /cannot reach the metadata database/);
        return true;
      },
    );
  });
});
