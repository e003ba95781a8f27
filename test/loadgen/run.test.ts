import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import {
  type Clock,
  DEFAULT_SEED,
  type GeneratedLoop,
  historical,
  isLateLoop,
  type LoadProgress,
  realtime,
} from "../../src/loadgen/index.js";
import { collectingSink, validationErrorMatching } from "./helpers.js";

interface FakeClock extends Clock {
  /** Every sleep asked for, in milliseconds. */
  sleeps: number[];
  advance(ms: number): void;
  /** Called after each sleep has advanced the time. */
  afterSleep?: () => void;
}

/** A clock whose sleep advances time at once: the schedule runs with no real waiting. */
function fakeClock(startMs: number): FakeClock {
  let nowMs = startMs;
  const clock: FakeClock = {
    sleeps: [],
    now: () => nowMs,
    advance(ms) {
      nowMs += ms;
    },
    async sleep(ms) {
      clock.sleeps.push(ms);
      nowMs += ms;
      clock.afterSleep?.();
    },
  };
  return clock;
}

const range = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let t = from; t < to; t += step) out.push(t);
  return out;
};

describe("historical mode", () => {
  it("writes one loop per step over [from, to): from included, to excluded", async () => {
    const sink = collectingSink();
    const summary = await historical({ from: 1000, to: 1100, stepSeconds: 10, sink });
    assert.deepEqual(
      sink.loops.map((l) => l.time),
      range(1000, 1100, 10),
    );
    assert.equal(summary.loops, 10);
    assert.equal(summary.records, 10 * 26_000);
    assert.equal(summary.firstTime, 1000);
    assert.equal(summary.lastTime, 1090);
    assert.equal(summary.aborted, false);
    assert.equal(summary.bytes, undefined);
    assert.ok(summary.seconds > 0 && summary.recordsPerSecond > 0);

    const uneven = collectingSink();
    await historical({ from: 0, to: 25, stepSeconds: 10, sink: uneven });
    assert.deepEqual(
      uneven.loops.map((l) => l.time),
      [0, 10, 20],
    );

    const dates = collectingSink();
    await historical({
      from: new Date("2021-09-21T00:00:00Z"),
      to: new Date("2021-09-21T00:01:00Z"),
      stepSeconds: 15,
      sink: dates,
    });
    const start = Date.UTC(2021, 8, 21) / 1000;
    assert.deepEqual(
      dates.loops.map((l) => l.time),
      [start, start + 15, start + 30, start + 45],
    );
  });

  it("counts records by shape and passes shape, scale and events on to the loops", async () => {
    const sink = collectingSink();
    const summary = await historical({
      from: 0,
      to: 3,
      stepSeconds: 1,
      sink,
      shape: "multi",
      hostScale: 2,
      includeEvents: false,
      seed: 99,
    });
    assert.equal(summary.records, 3 * 2000);
    for (const loop of sink.loops) {
      assert.equal(loop.shape, "multi");
      assert.equal(loop.model.metricSeries.length, 2000);
      assert.equal(loop.model.seed, 99);
      assert.equal(loop.events, undefined);
    }
    assert.equal(summary.prefix, sink.loops[0]!.model.prefix);
  });

  it("waits for the sink: never two writes at once, and sums the bytes it reports", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const summary = await historical({
      from: 0,
      to: 50,
      stepSeconds: 5,
      includeEvents: false,
      sink: {
        async write() {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await nextTurn();
          inFlight--;
          return { bytes: 1000 };
        },
      },
    });
    assert.equal(maxInFlight, 1);
    assert.equal(summary.bytes, 10_000);
  });

  it("reports progress after every loop", async () => {
    const reports: LoadProgress[] = [];
    await historical({
      from: 0,
      to: 40,
      stepSeconds: 10,
      sink: collectingSink(),
      onProgress: (p) => reports.push(p),
    });
    assert.deepEqual(
      reports.map((r) => [r.loops, r.records, r.lastTime, r.totalLoops, r.heldLoops]),
      [
        [1, 26_000, 0, 4, 0],
        [2, 52_000, 10, 4, 0],
        [3, 78_000, 20, 4, 0],
        [4, 104_000, 30, 4, 0],
      ],
    );
  });

  it("holds back the right share of loops and writes each once the fill reaches its due time", async () => {
    const from = 1_600_000_000;
    const stepSeconds = 10;
    const lateSeconds = 45;
    const loops = 2000;
    const percentLate = 30;
    const written: number[] = [];
    const summary = await historical({
      from,
      to: from + loops * stepSeconds,
      stepSeconds,
      percentLate,
      lateSeconds,
      includeEvents: false,
      shape: "multi",
      sink: {
        async write(loop: GeneratedLoop) {
          written.push(loop.time);
        },
      },
    });
    const times = range(from, from + loops * stepSeconds, stepSeconds);
    // Every loop once, with its own time.
    assert.deepEqual(
      [...written].sort((a, b) => a - b),
      times,
    );
    const late = times.filter((t) => isLateLoop(DEFAULT_SEED, t, percentLate));
    assert.equal(summary.lateLoops, late.length);
    assert.equal(summary.loops, loops);
    // 2000 loops at 30%: standard deviation about 1%; allow five.
    assert.ok(Math.abs(late.length / loops - 0.3) < 0.05, `late share ${late.length / loops}`);

    const lateSet = new Set(late);
    for (const t of late) {
      const position = written.indexOf(t);
      const onTimeBefore = written.slice(0, position).filter((u) => !lateSet.has(u));
      const onTimeAfter = written.slice(position + 1).filter((u) => !lateSet.has(u));
      // Written after every on-time loop earlier than its due time, before any at or after it.
      assert.ok(
        onTimeBefore.every((u) => u < t + lateSeconds),
        `late ${t} written too late`,
      );
      assert.ok(
        onTimeAfter.every((u) => u >= t + lateSeconds),
        `late ${t} written too early`,
      );
    }
  });

  it("holds back no loop at 0% and every loop at 100%", async () => {
    const none = await historical({
      from: 0,
      to: 100,
      stepSeconds: 1,
      percentLate: 0,
      lateSeconds: 5,
      includeEvents: false,
      sink: collectingSink(),
    });
    assert.equal(none.lateLoops, 0);
    const sink = collectingSink();
    const all = await historical({
      from: 0,
      to: 100,
      stepSeconds: 1,
      percentLate: 100,
      lateSeconds: 0,
      includeEvents: false,
      sink,
    });
    assert.equal(all.lateLoops, 100);
    // Due at once, so written in order, each just before the next loop is generated.
    assert.deepEqual(
      sink.loops.map((l) => l.time),
      range(0, 100, 1),
    );
  });

  it("stops between loops when aborted, dropping held late loops", async () => {
    const controller = new AbortController();
    const sink = collectingSink();
    const summary = await historical({
      from: 0,
      to: 1000,
      stepSeconds: 1,
      includeEvents: false,
      percentLate: 100,
      lateSeconds: 3,
      signal: controller.signal,
      sink: {
        async write(loop) {
          await sink.write(loop);
          if (sink.loops.length === 5) controller.abort();
        },
      },
    });
    assert.equal(summary.aborted, true);
    assert.equal(summary.loops, 5);
    assert.deepEqual(
      sink.loops.map((l) => l.time),
      [0, 1, 2, 3, 4],
    );
    assert.equal(summary.droppedLateLoops, 3); // 5, 6, 7 were held, not yet due
  });

  it("rejects bad options before writing anything", async () => {
    const sink = collectingSink();
    const base = { from: 0, to: 100, stepSeconds: 10, sink };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ from: 100, to: 100 }, /from must be before to/],
      [{ from: 200, to: 100 }, /from must be before to/],
      [{ stepSeconds: 0 }, /stepSeconds must be a positive integer/],
      [{ stepSeconds: -10 }, /stepSeconds must be a positive integer/],
      [{ stepSeconds: 1.5 }, /stepSeconds must be a positive integer/],
      [{ hostScale: 0 }, /hostScale must be a positive integer/],
      [{ hostScale: -2 }, /hostScale must be a positive integer/],
      [{ percentLate: -1 }, /percentLate must be a number in 0..100/],
      [{ percentLate: 100.5 }, /percentLate must be a number in 0..100/],
      [{ percentLate: Number.NaN }, /percentLate must be a number in 0..100/],
      [{ lateSeconds: -5 }, /lateSeconds must be a non-negative integer/],
      [{ shape: "wide" }, /shape must be "single" or "multi"/],
      [{ seed: -1 }, /seed must be a non-negative safe integer/],
      [{ includeEvents: "yes" }, /includeEvents must be a boolean/],
      [{ from: 1.5 }, /from must be whole epoch seconds/],
      [{ to: Number.POSITIVE_INFINITY }, /to must be whole epoch seconds/],
      [{ from: new Date("2021-01-01T00:00:00.500Z") }, /from must be a valid Date on a whole second/],
      [{ from: new Date("nonsense") }, /from must be a valid Date/],
      [{ sink: {} }, /sink must be an object with a write\(loop\) method/],
      [{ sink: undefined }, /sink must be an object with a write\(loop\) method/],
      [{ onProgress: 5 }, /onProgress must be a function/],
    ];
    for (const [override, message] of cases) {
      await assert.rejects(
        historical({ ...base, ...override } as Parameters<typeof historical>[0]),
        validationErrorMatching(message),
      );
    }
    assert.equal(sink.loops.length, 0);
  });
});

describe("real-time mode", () => {
  it("writes one loop now, then one every interval on whole seconds", async () => {
    const clock = fakeClock(1_000_000_400); // 1,000,000.4 s
    const writeClock: number[] = [];
    const sink = collectingSink();
    const summary = await realtime({
      intervalSeconds: 10,
      loops: 3,
      clock,
      includeEvents: false,
      sink: {
        async write(loop) {
          writeClock.push(clock.now());
          await sink.write(loop);
        },
      },
    });
    assert.deepEqual(
      sink.loops.map((l) => l.time),
      [1_000_000, 1_000_010, 1_000_020],
    );
    assert.deepEqual(writeClock, [1_000_000_400, 1_000_010_000, 1_000_020_000]);
    assert.deepEqual(clock.sleeps, [9600, 10_000]);
    assert.equal(summary.loops, 3);
    assert.equal(summary.records, 3 * 20_000);
    assert.equal(summary.aborted, false);
    assert.equal(summary.seconds, 19.6);
  });

  it("runs until aborted", async () => {
    const clock = fakeClock(5_000_000);
    const controller = new AbortController();
    const sink = collectingSink();
    const summary = await realtime({
      intervalSeconds: 1,
      clock,
      signal: controller.signal,
      includeEvents: false,
      sink: {
        async write(loop) {
          await sink.write(loop);
          if (sink.loops.length === 4) controller.abort();
        },
      },
    });
    assert.equal(summary.aborted, true);
    assert.deepEqual(
      sink.loops.map((l) => l.time),
      [5000, 5001, 5002, 5003],
    );

    const before = new AbortController();
    before.abort();
    const none = await realtime({ clock, signal: before.signal, sink: collectingSink() });
    assert.equal(none.loops, 0);
    assert.equal(none.aborted, true);
  });

  it("wakes from a real sleep as soon as it is aborted", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const summary = await realtime({
      intervalSeconds: 3600,
      includeEvents: false,
      signal: controller.signal,
      sink: {
        async write() {
          // Abort once the run is asleep waiting for the next tick, an hour away.
          setImmediate(() => controller.abort());
        },
      },
    });
    assert.equal(summary.loops, 1);
    assert.equal(summary.aborted, true);
    assert.ok(performance.now() - started < 5000);
  });

  it("skips ticks that passed while the sink was busy", async () => {
    const clock = fakeClock(2_000_000_000);
    const sink = collectingSink();
    const summary = await realtime({
      intervalSeconds: 10,
      loops: 3,
      clock,
      includeEvents: false,
      sink: {
        async write(loop) {
          await sink.write(loop);
          clock.advance(25_000); // each write takes 25 s
        },
      },
    });
    assert.deepEqual(
      sink.loops.map((l) => l.time),
      [2_000_000, 2_000_030, 2_000_060],
    );
    assert.equal(summary.skippedTicks, 4);
  });

  it("writes late loops lateSeconds after their time, with their own time", async () => {
    const clock = fakeClock(3_000_000_000);
    const writes: [number, number][] = [];
    const summary = await realtime({
      intervalSeconds: 10,
      loops: 2,
      percentLate: 100,
      lateSeconds: 5,
      clock,
      includeEvents: false,
      sink: {
        async write(loop) {
          writes.push([loop.time, clock.now()]);
        },
      },
    });
    assert.deepEqual(writes, [
      [3_000_000, 3_000_005_000],
      [3_000_010, 3_000_015_000],
    ]);
    assert.equal(summary.lateLoops, 2);
    assert.equal(summary.droppedLateLoops, 0);
  });

  it("drops late loops still held when aborted", async () => {
    const clock = fakeClock(4_000_000_000);
    const controller = new AbortController();
    clock.afterSleep = () => {
      if (clock.now() >= 4_000_004_000) controller.abort();
    };
    const sink = collectingSink();
    const summary = await realtime({
      intervalSeconds: 1,
      percentLate: 100,
      lateSeconds: 60,
      clock,
      signal: controller.signal,
      includeEvents: false,
      sink,
    });
    // Ticks at 0..3 s were generated and held (due a minute later); the abort came at 4 s.
    assert.equal(summary.aborted, true);
    assert.equal(summary.lateLoops, 4);
    assert.equal(summary.droppedLateLoops, 4);
    assert.equal(summary.loops, 0);
    assert.equal(sink.loops.length, 0);
  });

  it("rejects bad options", async () => {
    const sink = collectingSink();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ intervalSeconds: 0 }, /intervalSeconds must be a positive integer/],
      [{ intervalSeconds: 0.5 }, /intervalSeconds must be a positive integer/],
      [{ loops: 0 }, /loops must be a positive integer/],
      [{ hostScale: 0 }, /hostScale must be a positive integer/],
      [{ percentLate: 101 }, /percentLate must be a number in 0..100/],
      [{ percentLate: -0.1 }, /percentLate must be a number in 0..100/],
      [{ clock: { now: () => 0 } }, /clock must have now\(\) and sleep/],
    ];
    for (const [override, message] of cases) {
      await assert.rejects(
        realtime({ sink, loops: 1, ...override } as Parameters<typeof realtime>[0]),
        validationErrorMatching(message),
      );
    }
    assert.equal(sink.loops.length, 0);
  });
});
