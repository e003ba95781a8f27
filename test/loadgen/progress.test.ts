import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProgress, formatCount, formatDuration } from "../../src/cli/progress.js";
import { validationErrorMatching } from "./helpers.js";

/** An output that keeps what is written, and a clock the test moves. */
function harness(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  let nowMs = 0;
  return {
    writes,
    output: { isTTY, columns, write: (text: string) => writes.push(text) },
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

describe("progress bar", () => {
  it("prints a plain line every interval when not on a terminal, and a final line", () => {
    const h = harness(false);
    const progress = createProgress({
      label: "loadgen",
      total: 100,
      unit: "loops",
      output: h.output,
      now: h.now,
      logIntervalMs: 10_000,
    });
    progress.tick(10);
    h.advance(5000);
    progress.tick(10);
    assert.deepEqual([...h.writes], [], "nothing before the first interval");
    h.advance(5000);
    progress.tick(5);
    progress.tick(5);
    // Drawn by the first tick at or past the interval; the next tick is within a new interval.
    assert.deepEqual([...h.writes], ["loadgen  25/100 loops  25.0%  2.5 loops/s  ETA 30s\n"]);
    h.advance(10_000);
    progress.update(90);
    h.advance(2_000);
    progress.update(100);
    progress.done();
    progress.done(); // only once
    progress.tick(5); // ignored after done
    assert.deepEqual(
      [...h.writes],
      [
        "loadgen  25/100 loops  25.0%  2.5 loops/s  ETA 30s\n",
        "loadgen  90/100 loops  90.0%  4.5 loops/s  ETA 2s\n",
        "loadgen  100/100 loops  100.0%  4.5 loops/s  in 22s\n",
      ],
    );
    for (const text of h.writes) assert.ok(!text.includes("\r") && !text.includes("\x1b"));
  });

  it("prints only the final line for work shorter than one interval", () => {
    const h = harness(false);
    const progress = createProgress({ label: "import", output: h.output, now: h.now });
    progress.tick(1_234_567);
    h.advance(1000);
    progress.done();
    assert.deepEqual([...h.writes], ["import  1,234,567 records  1,234,567 records/s  in 1s\n"]);
  });

  it("redraws one line in place on a terminal, throttled, with a bar", () => {
    const h = harness(true);
    const progress = createProgress({
      label: "fill",
      total: 8,
      output: h.output,
      now: h.now,
      redrawIntervalMs: 100,
    });
    h.advance(1000);
    progress.tick(2);
    progress.tick(2); // within 100 ms of the last draw: skipped
    h.advance(1000);
    progress.tick(2);
    progress.done();
    assert.equal(h.writes.length, 3);
    assert.equal(
      h.writes[0],
      "\rfill  [######------------------]  2/8 records  25.0%  2 records/s  ETA 3s\x1b[K",
    );
    assert.equal(
      h.writes[1],
      "\rfill  [##################------]  6/8 records  75.0%  3 records/s  ETA 1s\x1b[K",
    );
    assert.equal(
      h.writes[2],
      "\rfill  [##################------]  6/8 records  75.0%  3 records/s  in 2s\x1b[K\n",
    );
  });

  it("cuts lines to the terminal width so \\r can redraw them", () => {
    const h = harness(true, 20);
    const progress = createProgress({ label: "a long label here", total: 10, output: h.output, now: h.now });
    progress.tick(1);
    assert.equal(h.writes[0], "\ra long label here  \x1b[K"); // 19 characters, then clear
  });

  it("formats counts and durations", () => {
    assert.equal(formatCount(0), "0");
    assert.equal(formatCount(2.25), "2.3");
    assert.equal(formatCount(26_000), "26,000");
    assert.equal(formatDuration(5), "5s");
    assert.equal(formatDuration(185), "3m05s");
    assert.equal(formatDuration(7620), "2h07m");
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), "--");
  });

  it("rejects bad options and amounts", () => {
    const h = harness(false);
    assert.throws(() => createProgress({ label: "", output: h.output }), validationErrorMatching(/label/));
    assert.throws(
      () => createProgress({ label: "x", total: -1, output: h.output }),
      validationErrorMatching(/total/),
    );
    assert.throws(
      () => createProgress({ label: "x", total: Number.NaN, output: h.output }),
      validationErrorMatching(/total/),
    );
    assert.throws(
      () => createProgress({ label: "x", logIntervalMs: -1, output: h.output }),
      validationErrorMatching(/logIntervalMs/),
    );
    const progress = createProgress({ label: "x", output: h.output });
    assert.throws(() => progress.tick(-1), validationErrorMatching(/tick/));
    assert.throws(() => progress.tick(Number.NaN), validationErrorMatching(/tick/));
    assert.throws(() => progress.update("5" as unknown as number), validationErrorMatching(/update/));
  });
});
