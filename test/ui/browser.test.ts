/**
 * The UI in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against a real
 * runtime on loopback: the seed's DAG and data on a clock that starts at 2021-09-23T00:10Z and runs
 * in real time, so the demo's catchup makes 24 hourly runs, plus a small DAG whose first task fails
 * until a marker file exists. The flows are issue 10's acceptance: the grid's 24 green runs, a
 * trigger followed to success without a reload, a failed task's log and clear, the seed's query
 * with rows and a chart, an hourly CSV in the lake, a backfill from its dry run to the end, and
 * the bad inputs (an invalid conf, SQL with an error, a backfill over a held range).
 *
 * Without Chromium the tests are skipped with a printed reason; with HOURGLASS_TEST_UI_REQUIRED=1
 * (as .ci/run sets it) they fail instead.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import {
  demoDagFile,
  demoDagId,
  loadSeedData,
  type Scenario,
  seedQueryFor,
  startScenario,
} from "../e2e/helpers.js";

const chromiumPath = process.env["HOURGLASS_TEST_CHROMIUM"] ?? "/usr/bin/chromium";
const required = process.env["HOURGLASS_TEST_UI_REQUIRED"] === "1";
const skip =
  fs.existsSync(chromiumPath) || required
    ? undefined
    : `no Chromium at ${chromiumPath} (apt-get install chromium)`;
if (skip) process.stdout.write(`skipping the browser tests: ${skip}\n`);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const tempShots = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-ui-shots-"));
// The README's two screenshots are rewritten only when asked, so `npm test` leaves the checkout clean.
const updateDocs = process.env["HOURGLASS_UPDATE_SCREENSHOTS"] === "1";
const docsShots = updateDocs ? path.join(root, "docs", "screenshots") : tempShots;
const timeout = 90_000;

function checksDag(marker: string): string {
  return `import { command, dag, task } from "hourglass";
export default dag({
  id: "ui-checks",
  schedule: null,
  startDate: "2021-01-01T00:00:00Z",
  catchup: false,
  params: {
    rows: { type: "integer", default: 3, minimum: 1, description: "how many rows to check" },
  },
  tasks: [
    task({ id: "check", operator: command({ command: "echo checking {{ params.rows }} rows; test -f ${marker}" }) }),
    task({ id: "report", upstream: ["check"], operator: command({ command: "echo reported" }) }),
  ],
});
`;
}

describe("the web UI in Chromium", { skip, timeout: 600_000 }, () => {
  let s: Scenario;
  let browser: Browser;
  let page: Page;
  let marker: string;
  const start = Date.parse("2021-09-23T00:10:00Z");

  before(async () => {
    const realStart = Date.now();
    marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-ui-marker-")), "ok");
    s = await startScenario({
      clockMs: () => start + (Date.now() - realStart),
      tickMs: 200,
      dagFiles: {
        "timestream-airflow-demo.ts": fs.readFileSync(demoDagFile, "utf8"),
        "ui-checks.ts": checksDag(marker),
      },
    });
    await loadSeedData(
      s.runtime.store,
      s.runtime.lake,
      Date.parse("2021-09-22T00:00:00Z"),
      Date.parse("2021-09-23T00:00:00Z"),
    );
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(timeout);
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const open = (hash: string) => page.goto(`${s.runtime.url}/#${hash}`);

  it("lists the DAGs; unpausing the demo from its toggle runs its catchup: the grid shows 24 green runs", async () => {
    await open("/dags");
    const row = page.locator(`tr[data-dag="${demoDagId}"]`);
    const toggle = row.getByRole("switch", { name: `${demoDagId} unpaused` });
    await toggle.and(page.locator("[aria-checked=false]")).waitFor();
    const finished = new Promise<void>((resolve) => {
      let n = 0;
      s.runtime.events.on("run:finished", (e) => {
        if (e.run.dagId === demoDagId && ++n === 24) resolve();
      });
    });
    await toggle.click();
    await toggle.and(page.locator("[aria-checked=true]")).waitFor();
    await finished;
    // The list follows without a reload: its last runs turn green.
    await row.locator(".sq.state-success").nth(11).waitFor();
    await page.screenshot({ path: path.join(tempShots, "dags.png") });

    await row.getByRole("link", { name: demoDagId }).click();
    await page.locator(".grid-summary", { hasText: "24 runs: success 24" }).waitFor();
    assert.ok(
      (await page.locator(".run-state .sq.state-success").count()) >= 20,
      "the rows in view are green",
    );
    await page.locator(".grid-row").first().getByRole("link").first().click();
    await page.locator(".run-panel .run-state-text", { hasText: "success" }).waitFor();
    await page.screenshot({ path: path.join(docsShots, "grid.png") });
  });

  it("triggers with a conf form that names a bad field, then follows a good run to success without a reload", async () => {
    await s.runtime.workflows.setPaused("ui-checks", false);
    fs.writeFileSync(marker, "");
    await open("/dags/ui-checks");
    await page.getByRole("button", { name: "Trigger…" }).click();
    const form = page.getByRole("form", { name: "Trigger ui-checks" });
    await form.locator('input[name="rows"]').fill("2.5");
    await form.getByRole("button", { name: "Trigger" }).click();
    await form.locator(".field-error", { hasText: "rows: expected an integer" }).waitFor();
    await form.locator('input[name="rows"]').fill("0");
    await form.getByRole("button", { name: "Trigger" }).click();
    await form.locator(".field-error", { hasText: "rows: must be >= 1" }).waitFor();
    assert.equal((await s.runtime.workflows.listRuns({ dagId: "ui-checks" })).length, 0, "nothing was sent");
    await page.screenshot({ path: path.join(tempShots, "trigger-invalid.png") });

    await form.locator('input[name="rows"]').fill("5");
    await form.getByRole("button", { name: "Trigger" }).click();
    await page.locator(".run-panel .run-state-text", { hasText: "success" }).waitFor();
    await page.locator(".grid-summary", { hasText: "1 runs: success 1" }).waitFor();
    const [run] = await s.runtime.workflows.listRuns({ dagId: "ui-checks" });
    assert.equal(run?.state, "success");
    assert.deepEqual(run?.conf, { rows: 5 });
    await page.screenshot({ path: path.join(tempShots, "trigger-success.png") });
  });

  it("shows a failed task's log, clears it with its downstream task and follows it to success", async () => {
    fs.rmSync(marker, { force: true });
    const failed = s.runtime.events.waitFor("task:failed", (e) => e.dagId === "ui-checks", timeout);
    const run = await s.runtime.workflows.trigger("ui-checks", { conf: { rows: 7 } });
    await failed;
    await open(`/dags/ui-checks/runs/${encodeURIComponent(run.runId)}/tasks/check`);
    await page.locator(".task-state strong[data-state=failed]").waitFor();
    await page.locator("pre.log", { hasText: "checking 7 rows" }).waitFor();
    await page.screenshot({ path: path.join(tempShots, "task-failed.png") });

    fs.writeFileSync(marker, "");
    const runDone = s.runtime.events.waitFor("run:finished", (e) => e.run.runId === run.runId, timeout);
    await page.getByRole("button", { name: "Clear (+ downstream)" }).click();
    await page.locator(".task-state strong[data-state=success]").waitFor();
    await page.getByRole("button", { name: "log of try 1" }).waitFor();
    await page.locator("pre.log", { hasText: "checking 7 rows" }).waitFor();
    assert.equal((await runDone).state, "success", "the downstream task ran after the clear");
    await page.getByRole("button", { name: "log of try 1" }).click();
    await page.locator("tr.selected", { hasText: "failed" }).waitFor();
    await page.screenshot({ path: path.join(tempShots, "task-cleared.png") });
  });

  it("runs the seed's query in the editor: rows, a chart, paging; a SQL error is marked at its line", async () => {
    await open("/query");
    await page.getByRole("button", { name: "Preview data" }).click();
    await page.locator("table tbody tr").first().waitFor();
    const sql = seedQueryFor("2021-09-22 13:00:00+00:00", "2021-09-22 14:00:00+00:00")
      .replace(" FROM ", "\nFROM ")
      .replace(" WHERE ", "\nWHERE ")
      .replace(" GROUP BY ", "\nGROUP BY ")
      .replace(" ORDER BY ", "\nORDER BY ");
    await page.getByLabel("SQL").fill(sql);
    await page.getByRole("button", { name: "Run (Ctrl+Enter)" }).click();
    await page.locator(".result-count", { hasText: "rows 1–100 (more)" }).waitFor();
    await page.locator(".chart canvas").waitFor();
    assert.equal(await page.locator(".table-wrap table tbody tr").count(), 100);
    await page.getByRole("button", { name: "Next" }).click();
    await page.locator(".result-count", { hasText: "rows 101–200" }).waitFor();
    await page.screenshot({ path: path.join(docsShots, "query.png"), fullPage: true });

    await page.getByLabel("SQL").fill('SELECT instance_name\nFRM "airflow-db"."airflow-table"');
    await page.getByRole("button", { name: "Run (Ctrl+Enter)" }).click();
    await page.locator(".sql-error", { hasText: "line 2" }).waitFor();
    assert.equal(await page.locator(".gutter .error-line").textContent(), "2");
    await page.screenshot({ path: path.join(tempShots, "query-error.png") });
  });

  it("opens an hourly CSV in the lake, with its manifest", async () => {
    await open("/lake");
    await page.getByRole("link", { name: "demo-airflow-ts-output" }).click();
    await page.getByRole("link", { name: "2021-09-22-13/" }).click();
    await page.getByRole("link", { name: "my_file.csv", exact: true }).click();
    await page.locator("th", { hasText: "avg_cpu_utilization" }).waitFor();
    await page.locator("caption", { hasText: "360 rows" }).waitFor();
    await page.locator("details.card", { hasText: "Manifest" }).waitFor();
    await page.screenshot({ path: path.join(tempShots, "lake.png") });
  });

  it("refuses a backfill over a held range with the 409's message, then runs one from its dry run to the end", async () => {
    const held = await s.runtime.workflows.createBackfill({
      dagId: demoDagId,
      from: "2021-09-21T00:00:00Z",
      to: "2021-09-21T05:00:00Z",
      maxActiveRuns: 1,
    });
    await s.runtime.workflows.pauseBackfill(held.backfill!.id);
    await open(`/backfill?dag=${demoDagId}`);
    const form = page.getByRole("form", { name: "Backfill" });
    // From before the table's retention (24 h memory + 1 day magnetic before 2021-09-23T00:10).
    await form.locator('input[name="from"]').fill("2021-09-20T23:00:00Z");
    await form.locator('input[name="to"]').fill("2021-09-21T02:00:00Z");
    // The held backfill may have made runs in this range already: the cancelled ones are run again.
    await form.locator('select[name="reprocess"]').selectOption("failed");
    await form.getByRole("button", { name: "Preview (dry run)" }).click();
    await page.getByRole("heading", { name: "Preview: 4 intervals" }).waitFor();
    await page.locator(".banner", { hasText: "2 of 4 intervals start before 2021-09-21T00:10" }).waitFor();
    await form.getByRole("button", { name: "Start backfill" }).click();
    await form.locator(".error", { hasText: `backfill ${held.backfill!.id}` }).waitFor();
    assert.match((await form.locator(".error").textContent()) ?? "", /409/);
    await page.screenshot({ path: path.join(tempShots, "backfill-409.png") });

    await page
      .locator(`li[data-backfill="${held.backfill!.id}"]`)
      .getByRole("button", { name: "Cancel" })
      .click();
    await page.locator(`li[data-backfill="${held.backfill!.id}"][data-state=cancelled]`).waitFor();
    await form.getByRole("button", { name: "Start backfill" }).click();
    const item = page.locator("li.backfill[data-state=completed]");
    await item.waitFor();
    assert.match((await item.textContent()) ?? "", /4\/4 done · 4 succeeded/);
    await page.screenshot({ path: path.join(tempShots, "backfill-done.png") });
  });

  it("shows the store's tables with retention, schema, row count and the last hour's records", async () => {
    await open("/store");
    await page.getByRole("heading", { name: "Database airflow-db" }).waitFor();
    await page.getByRole("button", { name: "Details" }).click();
    // 6 hosts, one point a minute, for a day.
    await page.getByText(`rows: ${(6 * 60 * 24).toLocaleString("en-US")}`).waitFor();
    await page.locator("table.schema td", { hasText: "instance_name" }).waitFor();
    await page.locator(".details .chart canvas").waitFor();
    await page.screenshot({ path: path.join(tempShots, "store.png"), fullPage: true });
  });

  it("shows a stream's shards, its connector's lag and a dead letter's reason", async () => {
    await s.runtime.streams.createStream("ui-stream", 1);
    await s.runtime.connectors.create({
      name: "ui-connector",
      stream: "ui-stream",
      database: "airflow-db",
      table: "airflow-table",
      maxDelayMs: 0,
    });
    await s.runtime.streams.putRecord("ui-stream", {
      Data: new TextEncoder().encode("this is not JSON"),
      PartitionKey: "k",
    });
    await open("/streams");
    await page.getByRole("heading", { name: "Stream ui-stream", exact: true }).waitFor();
    await page.getByRole("heading", { name: "Connector ui-connector" }).waitFor();
    await page.getByRole("button", { name: "Dead letters (1)" }).click();
    await page.locator("td", { hasText: "this is not JSON" }).first().waitFor();
    await page.screenshot({ path: path.join(tempShots, "streams.png"), fullPage: true });
  });

  it("follows the system's dark setting", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await open(`/dags/${demoDagId}`);
    await page.locator(".grid-summary").waitFor();
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    assert.equal(background, "rgb(21, 24, 27)");
    await page.screenshot({ path: path.join(tempShots, "grid-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
    process.stdout.write(
      `browser test screenshots: ${tempShots}${updateDocs ? " and docs/screenshots/" : ""}\n`,
    );
  });
});
