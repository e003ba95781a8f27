/**
 * Where the configuration file comes from: --config, else HOURGLASS_CONFIG, else ./hourglass.yaml,
 * else <stateDir>/hourglass.yaml; relative paths in it are relative to the file's folder, so the
 * same file means the same folders whichever folder `hourglass` runs in.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { resolveConfig } from "../src/config.js";
import { isHourglassError } from "../src/errors.js";
import { tempDir } from "./support/store.js";

describe("the configuration file", () => {
  const root = tempDir("hg-config-");
  const elsewhere = path.join(root, "elsewhere");
  const project = path.join(root, "project");
  fs.mkdirSync(elsewhere);
  fs.mkdirSync(path.join(project, "state"), { recursive: true });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("is read from the state folder when the current folder has none (paths relative to the file)", () => {
    fs.writeFileSync(
      path.join(project, "state", "hourglass.yaml"),
      "workers: 5\ndagsDir: my-dags\nlogLevel: debug\n",
    );
    const config = resolveConfig({
      cwd: elsewhere,
      env: {},
      flags: { stateDir: path.join(project, "state") },
    });
    assert.equal(config.workers, 5);
    assert.equal(config.logLevel, "debug");
    assert.equal(config.dagsDir, path.join(project, "state", "my-dags"));
    // The same through the environment's state folder.
    const fromEnv = resolveConfig({
      cwd: elsewhere,
      env: { HOURGLASS_STATE_DIR: path.join(project, "state") },
    });
    assert.equal(fromEnv.workers, 5);
  });

  it("./hourglass.yaml comes before the state folder's; --config and HOURGLASS_CONFIG before both", () => {
    fs.writeFileSync(path.join(elsewhere, "hourglass.yaml"), "workers: 3\n");
    const flags = { stateDir: path.join(project, "state") };
    assert.equal(resolveConfig({ cwd: elsewhere, env: {}, flags }).workers, 3);
    fs.writeFileSync(path.join(root, "other.yaml"), "workers: 7\nlakeDir: lake-here\n");
    const viaEnv = resolveConfig({ cwd: elsewhere, env: { HOURGLASS_CONFIG: "../other.yaml" }, flags });
    assert.equal(viaEnv.workers, 7);
    assert.equal(viaEnv.lakeDir, path.join(root, "lake-here"));
    const viaFlag = resolveConfig({
      cwd: elsewhere,
      env: { HOURGLASS_CONFIG: "nope.yaml" },
      flags: { ...flags, config: path.join(root, "other.yaml") },
    });
    assert.equal(viaFlag.workers, 7);
    // Flags and the environment still win over any file.
    assert.equal(resolveConfig({ cwd: elsewhere, env: { HOURGLASS_WORKERS: "2" }, flags }).workers, 2);
    fs.rmSync(path.join(elsewhere, "hourglass.yaml"));
  });

  it("refuses a given file that does not exist, and a state folder's file that would move the state folder", () => {
    assert.throws(
      () => resolveConfig({ cwd: elsewhere, env: { HOURGLASS_CONFIG: "missing.yaml" } }),
      (error: unknown) =>
        isHourglassError(error, "ValidationError") &&
        /config file .*missing\.yaml does not exist \(given by --config or HOURGLASS_CONFIG\)/.test(
          error.message,
        ),
    );
    fs.writeFileSync(path.join(project, "state", "hourglass.yaml"), "stateDir: /somewhere/else\n");
    assert.throws(
      () => resolveConfig({ cwd: elsewhere, env: {}, flags: { stateDir: path.join(project, "state") } }),
      (error: unknown) =>
        isHourglassError(error, "ValidationError") &&
        /sets stateDir, but it was found in the state folder it would move/.test(error.message),
    );
    fs.writeFileSync(path.join(project, "state", "hourglass.yaml"), "workers: [1\n");
    assert.throws(
      () => resolveConfig({ cwd: elsewhere, env: {}, flags: { stateDir: path.join(project, "state") } }),
      /hourglass\.yaml could not be read/,
    );
  });

  it("logLevel takes the five levels and silent, from the file or HOURGLASS_LOG_LEVEL", () => {
    assert.equal(resolveConfig({ cwd: elsewhere, env: {} }).logLevel, "info");
    assert.equal(
      resolveConfig({ cwd: elsewhere, env: { HOURGLASS_LOG_LEVEL: "silent" } }).logLevel,
      "silent",
    );
    assert.throws(() => resolveConfig({ cwd: elsewhere, env: { HOURGLASS_LOG_LEVEL: "loud" } }), /logLevel/);
  });
});
