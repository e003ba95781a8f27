/**
 * The import graph of src/ keeps the rules of scripts/import-graph.ts (no cycle between parts,
 * index.ts the only door, no file cycle inside a part but the listed ones). The checker itself is
 * tested on small trees written to a temporary folder, one broken rule each.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { checkImportGraph, collectImports, type ImportRules } from "../../scripts/import-graph.js";
import { importRules } from "../../scripts/import-rules.js";

const srcRoot = path.resolve(import.meta.dirname, "../../src");

test("src/ keeps the import rules (parts without cycles, index.ts the door)", () => {
  const { edges, unresolved } = collectImports(srcRoot);
  assert.ok(edges.length > 500, `only ${edges.length} imports found: the scanner is broken`);
  const violations = [...unresolved, ...checkImportGraph(edges, importRules)];
  assert.equal(violations.length, 0, `\n${violations.map((violation) => violation.message).join("\n\n")}\n`);
});

describe("the import checker", () => {
  const made: string[] = [];
  after(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tree = (files: Record<string, string>): string => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-imports-"));
    made.push(root);
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
    return root;
  };
  const none: ImportRules = { doors: [], fileCycles: [], bypasses: [] };
  const check = (root: string, rules: ImportRules = none) => {
    const { edges, unresolved } = collectImports(root);
    return [...unresolved, ...checkImportGraph(edges, rules)];
  };

  test("a clean tree passes, with static, export-from and dynamic imports through index.ts", () => {
    const root = tree({
      "a/index.ts":
        'export { b } from "../b/index.js";\nexport const lazy = () => import("../b/index.js");\n',
      "b/index.ts": 'import { leaf } from "../leaf.js";\nexport const b = leaf;\n',
      "leaf.ts": "export const leaf = 1;\n",
    });
    assert.deepEqual(check(root), []);
  });

  test("a cycle of type-only imports between parts fails, naming the files and lines", () => {
    const root = tree({
      "a/index.ts": 'import type { B } from "../b/index.js";\nexport type A = B;\n',
      "b/index.ts": 'export type { A } from "../a/index.js";\nexport type B = number;\n',
    });
    const violations = check(root);
    assert.deepEqual(
      violations.map((violation) => violation.rule),
      ["part-cycle"],
    );
    assert.match(violations[0]!.message, /parts a, b/);
    assert.match(violations[0]!.message, /src\/a\/index\.ts:1 import type .*type-only: counts too/);
    assert.match(violations[0]!.message, /src\/b\/index\.ts:1 export type/);
    assert.match(violations[0]!.message, /What to do/);
  });

  test("a dynamic import past index.ts is a bypass, with the fix in the message", () => {
    const root = tree({
      "a/index.ts": 'export const load = () => import("../b/inner.js");\n',
      "b/index.ts": "export {};\n",
      "b/inner.ts": "export const x = 1;\n",
    });
    const violations = check(root);
    assert.equal(violations.length, 1);
    assert.equal(violations[0]!.rule, "bypass");
    assert.match(violations[0]!.message, /src\/a\/index\.ts reaches into the part b/);
    assert.match(violations[0]!.message, /export what is needed from src\/b\/index\.ts/);
  });

  test("a listed bypass passes, and fails once it no longer occurs (the list only shrinks)", () => {
    const files = {
      "a/index.ts": 'import { x } from "../b/inner.js";\nexport const y = x;\n',
      "b/index.ts": "export {};\n",
      "b/inner.ts": "export const x = 1;\n",
    };
    const rules: ImportRules = { ...none, bypasses: [{ from: "a/index.ts", to: "b/inner.ts" }] };
    assert.deepEqual(check(tree(files), rules), []);
    const fixed = tree({
      ...files,
      "a/index.ts": 'import { x } from "../b/index.js";\nexport const y = x;\n',
    });
    assert.deepEqual(
      check(fixed, rules).map((violation) => violation.rule),
      ["stale-allowance"],
    );
  });

  test("a second door named in the rules is allowed", () => {
    const root = tree({
      "a/index.ts": 'import type { T } from "../b/types.js";\nexport type U = T;\n',
      "b/index.ts": "export {};\n",
      "b/types.ts": "export type T = 1;\n",
    });
    assert.equal(check(root).length, 1);
    assert.deepEqual(check(root, { ...none, doors: [{ file: "b/types.ts", reason: "light" }] }), []);
  });

  test("a cycle between files of one part fails unless listed with its reason", () => {
    const root = tree({
      "a/index.ts": 'export { one } from "./one.js";\n',
      "a/one.ts": 'import { two } from "./two.js";\nexport const one = () => two();\n',
      "a/two.ts": 'import { one } from "./one.js";\nexport const two = () => one();\n',
    });
    const violations = check(root);
    assert.deepEqual(
      violations.map((violation) => violation.rule),
      ["file-cycle"],
    );
    assert.match(violations[0]!.message, /src\/a\/one\.ts:1/);
    assert.match(violations[0]!.message, /src\/a\/two\.ts:1/);
    const rules = { ...none, fileCycles: [{ files: ["a/two.ts", "a/one.ts"], reason: "mutual recursion" }] };
    assert.deepEqual(check(root, rules), []);
  });

  test("an import that names no file is reported, not skipped", () => {
    const root = tree({ "a/index.ts": 'import { x } from "./missing.js";\nexport const y = x;\n' });
    const violations = check(root);
    assert.equal(violations.length, 1);
    assert.equal(violations[0]!.rule, "unresolved");
    assert.match(violations[0]!.message, /src\/a\/index\.ts:1 imports "\.\/missing\.js"/);
  });
});
