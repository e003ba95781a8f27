/**
 * The web UI's figures (issue 10's goals: grid API p95 under 100 ms, first paint under 1 s, the
 * first page's JS + CSS under 300 kB gzipped):
 *
 * - the grid's data for a DAG with 8,760 hourly runs (a year) and 3 tasks, GET /api/v1/dags/{dag}/grid,
 *   p50/p95 over `--calls` calls; baseline in the same script: the runs alone through the list route
 *   every other client uses (GET /api/v1/dags/{dag}/runs?limit=8760, no task states);
 * - the grid page in Chromium (Debian's /usr/bin/chromium): first contentful paint and the time
 *   until the grid's first rows are drawn, from navigation start, median of `--loads` cold loads;
 * - the bytes of JS and CSS the first page loads, gzipped as served.
 *
 *   node --import tsx bench/ui.ts [--runs 8760] [--calls 50] [--loads 5]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { resolveConfig } from "../src/config.js";
import { silentLog } from "../src/log/index.js";
import { startHourglass } from "../src/runtime/index.js";
import { uiAssetsDir } from "../src/ui/server.js";
import { arg, fmt, median, tempDir } from "./util.js";

const runs = arg("runs", 8760);
const calls = arg("calls", 50);
const loads = arg("loads", 5);
const chromiumPath = process.env["HOURGLASS_TEST_CHROMIUM"] ?? "/usr/bin/chromium";

const dir = tempDir("hourglass-bench-ui-");
const dagsDir = path.join(dir, "dags");
fs.mkdirSync(dagsDir);
fs.writeFileSync(
  path.join(dagsDir, "year.ts"),
  `import { command, dag, task } from "hourglass";
export default dag({
  id: "year",
  schedule: "@hourly",
  startDate: "2020-01-01T00:00:00Z",
  catchup: false,
  tasks: [
    task({ id: "extract", operator: command({ command: "true" }) }),
    task({ id: "transform", upstream: ["extract"], operator: command({ command: "true" }) }),
    task({ id: "load", upstream: ["transform"], operator: command({ command: "true" }) }),
  ],
});
`,
);
const config = resolveConfig({
  flags: { stateDir: path.join(dir, "state"), dagsDir, port: 0, workers: 1 },
  env: {},
  cwd: dir,
});
const runtime = await startHourglass(config, { scheduler: false, workers: 0, log: silentLog });

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const load = () => os.loadavg()[0]!.toFixed(1);

try {
  process.stderr.write(`load average ${load()}; creating ${fmt(runs)} runs x 3 tasks…\n`);
  const t0 = Date.parse("2020-01-01T00:00:00Z");
  const hour = 3_600_000;
  const now = Date.now();
  const states = ["success", "success", "success", "failed"] as const;
  for (let i = 0; i < runs; i += 1) {
    const made = await runtime.metadata.createRun(
      {
        dagId: "year",
        runType: "scheduled",
        interval: { start: t0 + i * hour, end: t0 + (i + 1) * hour },
        tasks: [{ taskId: "extract" }, { taskId: "transform" }, { taskId: "load" }],
      },
      now,
    );
    if (made.created && i % 97 !== 0)
      await runtime.metadata.setRunState(made.run.id, { to: states[i % 4]! }, now);
  }

  const time = async (url: string): Promise<{ ms: number; bytes: number }> => {
    const start = performance.now();
    const response = await fetch(url, { headers: { "accept-encoding": "gzip" } });
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return { ms: performance.now() - start, bytes: body.byteLength };
  };
  const series = async (urlOf: (i: number) => string) => {
    await time(urlOf(-1)); // warm up
    const ms: number[] = [];
    let bytes = 0;
    for (let i = 0; i < calls; i += 1) {
      const r = await time(urlOf(i));
      ms.push(r.ms);
      bytes = r.bytes;
    }
    return { p50: percentile(ms, 50), p95: percentile(ms, 95), bytes };
  };
  // Cold: a different (equivalent) range each call, so the server's per-change cache never answers.
  const farFuture = Date.parse("2100-01-01T00:00:00Z");
  const cold = await series((i) => `${runtime.url}/api/v1/dags/year/grid?to=${farFuture + i + 1}`);
  const warm = await series(() => `${runtime.url}/api/v1/dags/year/grid`);
  const list = await series(() => `${runtime.url}/api/v1/dags/year/runs?limit=${runs}`);
  // The answer's size on the wire: the route gzips it as the server's compress middleware does.
  const body = Buffer.from(await (await fetch(`${runtime.url}/api/v1/dags/year/grid`)).arrayBuffer());
  const wire = gzipSync(body).byteLength;
  process.stdout.write(
    `grid API, ${fmt(runs)} runs x 3 tasks, read each call: p50 ${cold.p50.toFixed(1)} ms, p95 ${cold.p95.toFixed(1)} ms, ${fmt(cold.bytes)} bytes of JSON, about ${fmt(wire)} gzipped\n` +
      `grid API, unchanged since the last call (cached): p50 ${warm.p50.toFixed(1)} ms, p95 ${warm.p95.toFixed(1)} ms\n` +
      `baseline, runs list without task states: p50 ${list.p50.toFixed(1)} ms, p95 ${list.p95.toFixed(1)} ms, ${fmt(list.bytes)} bytes\n` +
      `ratio grid (read) / runs list, p50: ${(cold.p50 / list.p50).toFixed(2)}\n`,
  );

  const js = fs.readFileSync(path.join(uiAssetsDir, "app.js"));
  const css = fs.readFileSync(path.join(uiAssetsDir, "app.css"));
  const gz = (b: Buffer) => gzipSync(b, { level: 9 }).byteLength;
  process.stdout.write(
    `first page weight: JS ${fmt(js.byteLength)} bytes (${fmt(gz(js))} gzipped), CSS ${fmt(css.byteLength)} bytes (${fmt(gz(css))} gzipped): ${fmt(gz(js) + gz(css))} bytes gzipped in all\n`,
  );

  if (!fs.existsSync(chromiumPath)) {
    process.stdout.write(`first paint: skipped, no Chromium at ${chromiumPath}\n`);
  } else {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
    const fcp: number[] = [];
    const rows: number[] = [];
    for (let i = 0; i < loads; i += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      await page.goto(`${runtime.url}/#/dags/year`);
      await page.locator(".grid-row").first().waitFor({ timeout: 60_000 });
      const marks = await page.evaluate(() => ({
        fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN,
        now: performance.now(),
      }));
      fcp.push(marks.fcp);
      rows.push(marks.now);
      await context.close();
    }
    await browser.close();
    process.stdout.write(
      `Chromium, grid page of ${fmt(runs)} runs (median of ${loads} cold loads): first contentful paint ${median(fcp).toFixed(0)} ms, grid rows drawn by ${median(rows).toFixed(0)} ms\n`,
    );
  }
  process.stdout.write(`load average at the end ${load()}\n`);
} finally {
  await runtime.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
