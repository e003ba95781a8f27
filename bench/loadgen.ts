/**
 * Load generator throughput: generating loops as columns vs converting them to single-measure
 * WriteRecords (the shape a 24-hour fill at 10 s steps writes: 8,640 loops × 26,000 records).
 * Prints loops/s and values/s of each and their ratio; the other shapes are printed for reference.
 *
 * Run: node --import tsx bench/loadgen.ts
 */
import { pathToFileURL } from "node:url";
import {
  buildModel,
  type GeneratedLoop,
  generateLoop,
  recordsPerLoop,
  toFlatPayloads,
  toMultiMeasureRecords,
  toSingleMeasurePayloads,
  toSingleMeasureRecords,
} from "../src/loadgen/index.js";

/** The brief's floor for columnar generation. */
const generationTargetValuesPerSecond = 5_000_000;
const measureForMs = 2000;
const warmupLoops = 20;
const firstTime = 1_700_000_000;

export interface Throughput {
  loops: number;
  seconds: number;
  loopsPerSecond: number;
  valuesPerSecond: number;
}

export interface LoadgenBenchResult {
  generation: Throughput;
  singleMeasureRecords: Throughput;
  multiMeasureRecords: Throughput;
  singleMeasurePayloads: Throughput;
  flatPayloads: Throughput;
  /** Generation values/s ÷ single-measure conversion values/s. */
  ratio: number;
}

/** Runs `work(k)` for loop k = 0, 1, … until `measureForMs` has passed. */
function measure(valuesPerLoop: number, work: (k: number) => void): Throughput {
  for (let k = 0; k < warmupLoops; k++) work(k);
  const started = performance.now();
  let loops = 0;
  while (performance.now() - started < measureForMs) work(loops++);
  const seconds = (performance.now() - started) / 1000;
  return {
    loops,
    seconds,
    loopsPerSecond: loops / seconds,
    valuesPerSecond: (loops * valuesPerLoop) / seconds,
  };
}

export function runLoadgenBench(): LoadgenBenchResult {
  const model = buildModel();
  const values = recordsPerLoop(model, "single").total; // one value per single-measure record
  const generation = measure(values, (k) => generateLoop(model, firstTime + k));

  // Conversion alone: loops generated beforehand, reused round-robin.
  const loops: GeneratedLoop[] = Array.from({ length: 16 }, (_, k) => generateLoop(model, firstTime + k));
  const convert = (fn: (loop: GeneratedLoop) => unknown[]): Throughput =>
    measure(values, (k) => {
      if (fn(loops[k % loops.length]!).length === 0) throw new Error("no output");
    });

  const singleMeasureRecords = convert(toSingleMeasureRecords);
  return {
    generation,
    singleMeasureRecords,
    multiMeasureRecords: convert(toMultiMeasureRecords),
    singleMeasurePayloads: convert(toSingleMeasurePayloads),
    flatPayloads: convert(toFlatPayloads),
    ratio: generation.valuesPerSecond / singleMeasureRecords.valuesPerSecond,
  };
}

function printResult(result: LoadgenBenchResult): void {
  const row = (name: string, t: Throughput): string =>
    `${name.padEnd(34)} ${t.loopsPerSecond.toFixed(1).padStart(9)} loops/s ${(t.valuesPerSecond / 1e6)
      .toFixed(2)
      .padStart(8)} M values/s`;
  console.log("loadgen, host scale 1 (26,000 values a loop), one core");
  console.log(row("generate (columnar)", result.generation));
  console.log(row("convert: single-measure records", result.singleMeasureRecords));
  console.log(row("convert: multi-measure records", result.multiMeasureRecords));
  console.log(row("convert: single-measure JSON", result.singleMeasurePayloads));
  console.log(row("convert: flat JSON", result.flatPayloads));
  console.log(`ratio generation / single-measure conversion: ${result.ratio.toFixed(1)}x`);
  const fillSeconds =
    8640 / result.singleMeasureRecords.loopsPerSecond + 8640 / result.generation.loopsPerSecond;
  console.log(
    `24 h at 10 s steps (8,640 loops) into single-measure records: ~${fillSeconds.toFixed(0)} s before the sink`,
  );
  const meets = result.generation.valuesPerSecond > generationTargetValuesPerSecond;
  console.log(
    `generation target > ${generationTargetValuesPerSecond / 1e6} M values/s: ${meets ? "met" : "NOT met"}`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printResult(runLoadgenBench());
}
