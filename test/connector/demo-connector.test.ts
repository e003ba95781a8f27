/**
 * The demo's connector is a managed connector of the server (created when missing, started when
 * stopped), not a code path of its own: records on the demo stream reach the demo table through it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import {
  DEMO_CONNECTOR,
  DEMO_DATABASE,
  DEMO_STREAM,
  DEMO_TABLE,
  ensureDemoConnector,
  startDemo,
} from "../../src/runtime/demo.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { queryAll, tempDir } from "../support/store.js";

const exampleDags = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "examples",
  "dags",
);

describe("the demo's connector", () => {
  const dir = tempDir("hg-demo-connector-");
  let runtime: HourglassRuntime | undefined;
  after(async () => {
    await runtime?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is created as a managed connector, moves the demo stream into the demo table, and is started again when stopped", async () => {
    const config = resolveConfig({
      flags: { stateDir: dir, dagsDir: path.join(dir, "dags"), port: 0, workers: 1 },
      env: {},
      cwd: dir,
    });
    fs.mkdirSync(config.dagsDir, { recursive: true });
    runtime = await startHourglass(config, {
      scheduler: false,
      workers: 0,
      writeServerInfo: false,
      dagsDirs: [exampleDags],
      log: silentLog,
    });
    const lines: string[] = [];
    const demo = await startDemo(runtime, Date.now, {
      fillHours: 0,
      realtime: false,
      log: (l) => lines.push(l),
    });
    assert.equal(demo.connector.name, DEMO_CONNECTOR);
    assert.equal(demo.connector.state, "running");
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          `created connector ${DEMO_CONNECTOR}: ${DEMO_STREAM} -> ${DEMO_DATABASE}.${DEMO_TABLE} (running)`,
        ),
      ),
      lines.join("\n"),
    );
    assert.deepEqual(
      (await runtime.connectors.list()).map((c) => [c.name, c.stream, c.database, c.table]),
      [[DEMO_CONNECTOR, DEMO_STREAM, DEMO_DATABASE, DEMO_TABLE]],
    );

    const nowS = Math.floor(Date.now() / 1000);
    const written = new Promise<void>((resolve) => {
      let total = 0;
      runtime!.connectors.on("batch:written", (b) => {
        total += b.written;
        if (total >= 3) resolve();
      });
    });
    await runtime.streams.putRecords(
      DEMO_STREAM,
      ["a", "b", "c"].map((host) => ({
        Data: Buffer.from(
          JSON.stringify({
            MeasureName: "cpu",
            MeasureValue: "1",
            Time: String(nowS),
            TimeUnit: "SECONDS",
            hostname: host,
          }),
        ),
        PartitionKey: host,
      })),
    );
    await written;
    const counted = await queryAll(runtime.store, `SELECT count(*) FROM "${DEMO_DATABASE}"."${DEMO_TABLE}"`);
    assert.equal(counted.rows[0]![0], "3");
    await demo.stop();

    await runtime.connectors.stop(DEMO_CONNECTOR);
    const again = await ensureDemoConnector(runtime.connectors);
    assert.equal(again.created, false);
    assert.equal(again.connector.state, "running");
  });
});
