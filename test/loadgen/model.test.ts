import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildModel,
  DEFAULT_PREFIX,
  DEFAULT_SEED,
  instancePrefix,
  MAX_HOST_SCALE,
  MICROSERVICES,
  REGIONS,
  recordsPerLoop,
} from "../../src/loadgen/index.js";
import { CPU_BAND_HIGH, CPU_BAND_LOW, CPU_BAND_NORMAL } from "../../src/loadgen/model.js";
import { validationErrorMatching } from "./helpers.js";

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("DevOps model", () => {
  it("has 100 silos over six regions", () => {
    const silos = REGIONS.reduce((sum, r) => sum + r.cellsPerRegion * r.silosPerCell, 0);
    assert.equal(silos, 100);
    const model = buildModel();
    assert.equal(new Set(model.metricSeries.map((s) => s.silo)).size, 100);
    assert.equal(new Set(model.metricSeries.map((s) => s.cell)).size, 15 + 2 + 6 + 2 + 10 + 5);
  });

  it("counts 1000 metric and 1200 event series at scale 1, twice that at scale 2", () => {
    const one = buildModel({ hostScale: 1 });
    assert.equal(one.metricSeries.length, 1000);
    assert.equal(one.eventSeries.length, 1200);
    const two = buildModel({ hostScale: 2 });
    assert.equal(two.metricSeries.length, 2000);
    assert.equal(two.eventSeries.length, 2400);
    assert.deepEqual(recordsPerLoop(one, "single"), { metrics: 20_000, events: 6_000, total: 26_000 });
    assert.deepEqual(recordsPerLoop(one, "multi"), { metrics: 1000, events: 1200, total: 2200 });
    assert.deepEqual(recordsPerLoop(two, "single"), { metrics: 40_000, events: 12_000, total: 52_000 });
    assert.deepEqual(recordsPerLoop(two, "multi", false), { metrics: 2000, events: 0, total: 2000 });
  });

  it("starts and ends with the series the original starts and ends with", () => {
    const model = buildModel();
    assert.deepEqual(model.metricSeries[0], {
      region: "us_east_1",
      cell: "us_east_1-cell-1",
      silo: "us_east_1-cell-1-silo-1",
      availability_zone: "us_east_1-1",
      microservice_name: "apollo",
      instance_type: "r5.4xlarge",
      os_version: "AL2",
      instance_name: `i-${DEFAULT_PREFIX}-apollo-0000.amazonaws.com`,
    });
    assert.deepEqual(model.metricSeries.at(-1), {
      region: "ap-northeast-1",
      cell: "ap-northeast-1-cell-5",
      silo: "ap-northeast-1-cell-5-silo-3",
      availability_zone: "ap-northeast-1-3",
      microservice_name: "zeus",
      instance_type: "m5.4xlarge",
      os_version: "AL2",
      instance_name: `i-${DEFAULT_PREFIX}-zeus-0002.amazonaws.com`,
    });
    // athena (after apollo's three instances) has two processes: server first.
    assert.deepEqual(model.eventSeries[3], {
      region: "us_east_1",
      cell: "us_east_1-cell-1",
      silo: "us_east_1-cell-1-silo-1",
      availability_zone: "us_east_1-1",
      microservice_name: "athena",
      instance_name: `i-${DEFAULT_PREFIX}-athena-0000.amazonaws.com`,
      process_name: "server",
      jdk_version: "JDK_8",
    });
    assert.equal(model.eventSeries[4]!.process_name, "host_manager");
  });

  for (const hostScale of [1, 2]) {
    it(`gives every metric dimension its exact format at scale ${hostScale}`, () => {
      const model = buildModel({ hostScale });
      const services = new Map(MICROSERVICES.map((m) => [m.name, m]));
      const perSiloAndService = new Map<string, number[]>();
      for (const s of model.metricSeries) {
        const region = REGIONS.find((r) => r.name === s.region);
        assert.ok(region, `unknown region ${s.region}`);
        const cell = new RegExp(`^${escapeRegExp(s.region)}-cell-(\\d+)$`).exec(s.cell);
        assert.ok(cell, s.cell);
        const n = Number(cell[1]);
        assert.ok(n >= 1 && n <= region.cellsPerRegion, s.cell);
        const silo = new RegExp(`^${escapeRegExp(s.cell)}-silo-(\\d+)$`).exec(s.silo);
        assert.ok(silo, s.silo);
        const m = Number(silo[1]);
        assert.ok(m >= 1 && m <= region.silosPerCell, s.silo);
        const service = services.get(s.microservice_name);
        assert.ok(service, s.microservice_name);
        assert.equal(s.instance_type, service.instanceType);
        assert.equal(s.os_version, service.osVersion);
        const name = new RegExp(`^i-${model.prefix}-${s.microservice_name}-(\\d{4})\\.amazonaws\\.com$`).exec(
          s.instance_name,
        );
        assert.ok(name, s.instance_name);
        const i = Number(name[1]);
        assert.equal(s.availability_zone, `${s.region}-${(i % 3) + 1}`);
        const key = `${s.silo}/${s.microservice_name}`;
        perSiloAndService.set(key, [...(perSiloAndService.get(key) ?? []), i]);
      }
      // i counts 0, 1, … within each microservice of each silo.
      for (const [key, indexes] of perSiloAndService) {
        const service = services.get(key.split("/")[1]!)!;
        const expected = Array.from({ length: service.instancesPerSilo * hostScale }, (_, k) => k);
        assert.deepEqual(indexes, expected, key);
      }
      assert.equal(perSiloAndService.size, 100 * 5);
      // Instance names repeat across silos: only 10 × scale distinct names.
      assert.equal(new Set(model.metricSeries.map((s) => s.instance_name)).size, 10 * hostScale);
    });

    it(`gives one event series per instance per process at scale ${hostScale}`, () => {
      const model = buildModel({ hostScale });
      const services = new Map(MICROSERVICES.map((m) => [m.name, m]));
      assert.equal(model.eventHost.length, model.eventSeries.length);
      const processesByHost = new Map<number, string[]>();
      model.eventSeries.forEach((event, k) => {
        const host = model.metricSeries[model.eventHost[k]!]!;
        for (const name of [
          "region",
          "cell",
          "silo",
          "availability_zone",
          "microservice_name",
          "instance_name",
        ] as const) {
          assert.equal(event[name], host[name], name);
        }
        assert.equal(event.jdk_version, services.get(event.microservice_name)!.jdkVersion);
        processesByHost.set(model.eventHost[k]!, [
          ...(processesByHost.get(model.eventHost[k]!) ?? []),
          event.process_name,
        ]);
      });
      assert.equal(processesByHost.size, model.metricSeries.length);
      for (const [host, processes] of processesByHost) {
        assert.deepEqual(processes, services.get(model.metricSeries[host]!.microservice_name)!.processes);
      }
    });
  }

  it("cycles availability zones 1, 2, 3 with the instance index at scale 2", () => {
    const model = buildModel({ hostScale: 2 });
    const zeus = model.metricSeries.filter(
      (s) => s.silo === "eu-west-1-cell-3-silo-2" && s.microservice_name === "zeus",
    );
    assert.deepEqual(
      zeus.map((s) => s.availability_zone),
      ["eu-west-1-1", "eu-west-1-2", "eu-west-1-3", "eu-west-1-1", "eu-west-1-2", "eu-west-1-3"],
    );
    assert.equal(zeus.at(-1)!.instance_name, `i-${model.prefix}-zeus-0005.amazonaws.com`);
  });

  it("derives a stable 8-character prefix from the seed", () => {
    assert.equal(buildModel().prefix, DEFAULT_PREFIX);
    assert.equal(instancePrefix(DEFAULT_SEED), DEFAULT_PREFIX);
    assert.match(DEFAULT_PREFIX, /^[A-Za-z0-9]{8}$/);
    assert.equal(buildModel({ seed: 7 }).prefix, buildModel({ seed: 7 }).prefix);
    const prefixes = new Set([0, 1, 2, 3, 12345, 2 ** 40].map(instancePrefix));
    assert.equal(prefixes.size, 6);
  });

  it("puts exactly 20% of hosts in the low band and 20% in the high band, fixed by the seed", () => {
    for (const hostScale of [1, 2]) {
      const model = buildModel({ hostScale });
      const count = (band: number): number => model.cpuBand.filter((b) => b === band).length;
      const hosts = model.metricSeries.length;
      assert.equal(count(CPU_BAND_LOW), hosts * 0.2);
      assert.equal(count(CPU_BAND_HIGH), hosts * 0.2);
      assert.equal(count(CPU_BAND_NORMAL), hosts * 0.6);
    }
    assert.deepEqual(buildModel({ seed: 9 }).cpuBand, buildModel({ seed: 9 }).cpuBand);
    assert.notDeepEqual(buildModel({ seed: 9 }).cpuBand, buildModel({ seed: 10 }).cpuBand);
  });

  it("rejects a bad host scale or seed", () => {
    for (const hostScale of [0, -1, 1.5, Number.NaN, MAX_HOST_SCALE + 1, "2" as unknown as number]) {
      assert.throws(() => buildModel({ hostScale }), validationErrorMatching(/hostScale/));
    }
    for (const seed of [-1, 0.5, Number.POSITIVE_INFINITY, 2 ** 53, "1" as unknown as number]) {
      assert.throws(() => buildModel({ seed }), validationErrorMatching(/seed/));
    }
  });
});
