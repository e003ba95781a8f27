import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { isHourglassError } from "../../src/errors.js";
import { type DagParams, describeParams, resolveParams } from "../../src/workflows/index.js";
import { defineParams } from "../../src/workflows/params.js";

function define(input: unknown): DagParams {
  const { params, problems } = defineParams(input);
  assert.deepEqual(problems, []);
  return params;
}

const exportParams = define({
  table: { type: "string", default: "airflow-table", description: "table to export" },
  limit: { type: "integer", default: 100, minimum: 1, maximum: 1000 },
  ratio: { type: "number", default: 0.9, minimum: 0, maximum: 1 },
  format: { type: "string", default: "csv", enum: ["csv", "parquet"] },
  header: { type: "boolean", default: true },
  options: { type: "object", default: {} },
  columns: { type: "array", default: ["a"] },
  region: { type: "string" },
});

function assertProblems(conf: unknown, expected: Array<[string, RegExp]>): void {
  assert.throws(
    () => resolveParams(exportParams, conf),
    (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"), String(error));
      const problems = error.context.problems as Array<{ key: string; message: string }>;
      assert.equal(problems.length, expected.length, JSON.stringify(problems));
      for (const [key, pattern] of expected) {
        const problem = problems.find((p) => p.key === key);
        assert.ok(problem !== undefined, `no problem for ${key}`);
        assert.match(problem.message, pattern);
        assert.match(error.message, new RegExp(`${key}: `));
      }
      return true;
    },
  );
}

describe("params: resolving a trigger's conf", () => {
  it("fills defaults, takes conf values, and ignores conf keys that are not params", () => {
    const params = resolveParams(exportParams, { region: "eu-west-1", limit: 5, command: "dags backfill …" });
    assert.deepEqual(params, {
      table: "airflow-table",
      limit: 5,
      ratio: 0.9,
      format: "csv",
      header: true,
      options: {},
      columns: ["a"],
      region: "eu-west-1",
    });
  });

  const failures: Array<[string, unknown, Array<[string, RegExp]>]> = [
    ["a required param missing", {}, [["region", /is required/]]],
    [
      "a string where a number goes",
      { region: "x", ratio: "high" },
      [["ratio", /expected a number, got string "high"/]],
    ],
    [
      "a fraction where an integer goes",
      { region: "x", limit: 2.5 },
      [["limit", /expected an integer, got number 2.5/]],
    ],
    ["below the minimum", { region: "x", limit: 0 }, [["limit", /must be >= 1, got 0/]]],
    ["above the maximum", { region: "x", ratio: 1.5 }, [["ratio", /must be <= 1, got 1.5/]]],
    [
      "not in the enum",
      { region: "x", format: "xlsx" },
      [["format", /must be one of "csv", "parquet", got "xlsx"/]],
    ],
    ["a string where a boolean goes", { region: "x", header: "yes" }, [["header", /expected a boolean/]]],
    [
      "an array where an object goes",
      { region: "x", options: [] },
      [["options", /expected a object, got an array/]],
    ],
    [
      "an object where an array goes",
      { region: "x", columns: {} },
      [["columns", /expected a array, got an object/]],
    ],
    ["null for a param", { region: null }, [["region", /expected a string, got null/]]],
    [
      "several problems at once, each with its key",
      { limit: -1, format: "xml" },
      [
        ["limit", /must be >= 1/],
        ["format", /must be one of/],
        ["region", /is required/],
      ],
    ],
  ];
  for (const [name, conf, expected] of failures) {
    it(name, () => assertProblems(conf, expected));
  }

  it("conf that is not an object", () => {
    for (const conf of ["x", [1], 3]) {
      assert.throws(() => resolveParams(exportParams, conf), /conf must be a JSON object/);
    }
  });

  it("a DAG without params gives no params, whatever the conf", () => {
    assert.deepEqual(resolveParams(define(undefined), { anything: 1 }), {});
  });
});

describe("params: zod schemas", () => {
  const schema = define(
    z.object({ table: z.string().default("airflow-table"), limit: z.number().int().min(1) }),
  );
  it("parses conf with the schema", () => {
    assert.deepEqual(resolveParams(schema, { limit: 3, extra: true }), { table: "airflow-table", limit: 3 });
  });
  it("lists each issue with its key", () => {
    assert.throws(
      () => resolveParams(schema, { table: 5, limit: 0 }),
      (error: unknown) => {
        assert.ok(isHourglassError(error, "ValidationError"));
        const keys = (error.context.problems as Array<{ key: string }>).map((p) => p.key).sort();
        assert.deepEqual(keys, ["limit", "table"]);
        assert.match(error.message, /^invalid params: /);
        return true;
      },
    );
  });
  it("describeParams: specs for forms, null for a schema", () => {
    assert.equal(describeParams(schema), null);
    assert.deepEqual(describeParams(define({ a: { type: "string", default: "x" } })), [
      { name: "a", type: "string", default: "x" },
    ]);
  });
});

describe("params: invalid declarations", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    [
      "an unknown type",
      { a: { type: "float" } },
      /params.a: type must be one of string, number, integer, boolean, object, array/,
    ],
    [
      "a default of the wrong type",
      { a: { type: "number", default: "1" } },
      /params.a: default expected a number, got string "1"/,
    ],
    [
      "a default outside the enum",
      { a: { type: "string", enum: ["x"], default: "y" } },
      /params.a: default must be one of "x"/,
    ],
    ["an empty enum", { a: { type: "string", enum: [] } }, /params.a: enum must be a non-empty array/],
    [
      "minimum above maximum",
      { a: { type: "number", minimum: 5, maximum: 1 } },
      /minimum 5 is greater than maximum 1/,
    ],
    ["a minimum on a string", { a: { type: "string", minimum: 1 } }, /minimum only applies to number params/],
    ["an unknown field", { a: { type: "string", required: true } }, /params.a: unknown field "required"/],
    ["a spec that is not an object", { a: "string" }, /params.a: must be an object/],
    ["a bad param name", { "my param": { type: "string" } }, /params.my param: a param name must match/],
    ["params that are not an object", "table", /params must be a zod schema or an object/],
  ];
  for (const [name, input, pattern] of cases) {
    it(name, () => {
      const { problems } = defineParams(input);
      assert.ok(
        problems.some((p) => pattern.test(p)),
        JSON.stringify(problems),
      );
    });
  }
});
