import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildModel,
  generateLoop,
  MAX_TIME_SECONDS,
  METRIC_MEASURES,
  TASK_END_STATE_PROBABILITIES,
  TASK_END_STATES,
} from "../../src/loadgen/index.js";
import {
  CPU_BAND_HIGH,
  CPU_BAND_LOW,
  PERCENT_MEASURES,
  SMALL_CPU_MEASURES,
} from "../../src/loadgen/model.js";
import { validationErrorMatching } from "./helpers.js";

const time0 = 1_700_000_000;

describe("generateLoop", () => {
  const model = buildModel();

  it("fills one column per measure, one value per series", () => {
    for (const hostScale of [1, 2]) {
      const scaled = buildModel({ hostScale });
      const loop = generateLoop(scaled, time0);
      assert.equal(loop.time, time0);
      assert.equal(loop.shape, "single");
      assert.deepEqual(Object.keys(loop.metrics).sort(), [...METRIC_MEASURES].sort());
      for (const name of METRIC_MEASURES) assert.equal(loop.metrics[name].length, 1000 * hostScale, name);
      const events = loop.events!;
      assert.deepEqual(Object.keys(events).sort(), [
        "gc_pause",
        "gc_reclaimed",
        "memory_free",
        "task_completed",
        "task_end_state",
      ]);
      for (const column of Object.values(events)) assert.equal(column.length, 1200 * hostScale);
    }
  });

  it("leaves events out when asked", () => {
    const loop = generateLoop(model, time0, { includeEvents: false, shape: "multi" });
    assert.equal(loop.events, undefined);
    assert.equal(loop.shape, "multi");
  });

  it("is deterministic for (seed, time) and differs when either changes", () => {
    const a = generateLoop(model, time0);
    const b = generateLoop(buildModel(), time0);
    assert.deepEqual(a.metrics, b.metrics);
    assert.deepEqual(a.events, b.events);
    const later = generateLoop(model, time0 + 1);
    assert.notDeepEqual(a.metrics.cpu_user, later.metrics.cpu_user);
    assert.notDeepEqual(a.events!.task_completed, later.events!.task_completed);
    const otherSeed = generateLoop(buildModel({ seed: 1 }), time0);
    assert.notDeepEqual(a.metrics.memory_used, otherSeed.metrics.memory_used);
    // Generating other loops in between changes nothing: values depend on the time only.
    generateLoop(model, 5);
    assert.deepEqual(generateLoop(model, time0).metrics, a.metrics);
  });

  it("draws cpu_user from each host's band, the six small CPU measures from [0, 1), the rest from [0, 100)", () => {
    for (let k = 0; k < 20; k++) {
      const loop = generateLoop(model, time0 + k * 10);
      const user = loop.metrics.cpu_user;
      for (let i = 0; i < user.length; i++) {
        const band = model.cpuBand[i];
        const [low, high] = band === CPU_BAND_HIGH ? [85, 95] : band === CPU_BAND_LOW ? [0, 10] : [35, 65];
        assert.ok(user[i]! >= low && user[i]! < high, `cpu_user ${user[i]} outside [${low}, ${high})`);
      }
      for (const name of SMALL_CPU_MEASURES) {
        for (const value of loop.metrics[name]) assert.ok(value >= 0 && value < 1, `${name} ${value}`);
      }
      assert.equal(PERCENT_MEASURES.length, 12);
      for (const name of PERCENT_MEASURES) {
        for (const value of loop.metrics[name]) assert.ok(value >= 0 && value < 100, `${name} ${value}`);
      }
    }
  });

  it("shares hosts 20% high, 20% low, 60% normal by cpu_user", () => {
    const user = generateLoop(model, time0).metrics.cpu_user;
    const high = user.filter((v) => v >= 85).length;
    const low = user.filter((v) => v < 10).length;
    const normal = user.filter((v) => v >= 35 && v < 65).length;
    assert.deepEqual([high, low, normal], [200, 200, 600]);
    // Within a band the draw is uniform: the normal band's mean is near 50.
    const normalValues = user.filter((v) => v >= 35 && v < 65);
    const mean = normalValues.reduce((s, v) => s + v, 0) / normalValues.length;
    assert.ok(Math.abs(mean - 50) < 2, `normal-band mean ${mean}`);
  });

  it("makes cpu_idle exactly 100 - cpu_user - the six, summed in the original's order", () => {
    for (let k = 0; k < 5; k++) {
      const { metrics } = generateLoop(model, time0 + k);
      for (let i = 0; i < metrics.cpu_idle.length; i++) {
        let others = 0.0;
        for (const name of [
          "cpu_system",
          "cpu_steal",
          "cpu_iowait",
          "cpu_nice",
          "cpu_hi",
          "cpu_si",
        ] as const) {
          others += metrics[name][i]!;
        }
        assert.equal(metrics.cpu_idle[i], 100 - metrics.cpu_user[i]! - others);
      }
    }
  });

  it("draws event measures in their ranges and task_end_state with the original's weights", () => {
    const loops = 100;
    const stateCounts = new Array<number>(TASK_END_STATES.length).fill(0);
    let minTasks = Number.POSITIVE_INFINITY;
    let maxTasks = Number.NEGATIVE_INFINITY;
    let draws = 0;
    for (let k = 0; k < loops; k++) {
      const events = generateLoop(model, time0 + k * 60).events!;
      for (let i = 0; i < events.task_completed.length; i++) {
        const tasks = events.task_completed[i]!;
        assert.ok(Number.isInteger(tasks) && tasks >= 0 && tasks <= 500, `task_completed ${tasks}`);
        minTasks = Math.min(minTasks, tasks);
        maxTasks = Math.max(maxTasks, tasks);
        stateCounts[events.task_end_state[i]!]!++;
        for (const name of ["gc_reclaimed", "gc_pause", "memory_free"] as const) {
          assert.ok(events[name][i]! >= 0 && events[name][i]! < 100, `${name} ${events[name][i]}`);
        }
        draws++;
      }
    }
    // 120,000 draws: both ends of 0..500 appear.
    assert.equal(minTasks, 0);
    assert.equal(maxTasks, 500);
    TASK_END_STATE_PROBABILITIES.forEach((p, k) => {
      const share = stateCounts[k]! / draws;
      const tolerance = 5 * Math.sqrt((p * (1 - p)) / draws);
      assert.ok(Math.abs(share - p) < tolerance, `${TASK_END_STATES[k]}: ${share} vs ${p} ± ${tolerance}`);
    });
  });

  it("rejects a time that is not whole epoch seconds in range", () => {
    for (const time of [-1, 1.5, Number.NaN, MAX_TIME_SECONDS + 1, "1700000000" as unknown as number]) {
      assert.throws(
        () => generateLoop(model, time),
        validationErrorMatching(/time must be whole epoch seconds/),
      );
    }
    assert.throws(
      () => generateLoop(model, time0, { shape: "wide" as "single" }),
      validationErrorMatching(/shape must be "single" or "multi"/),
    );
  });
});
