/**
 * `hourglass connector create | list | describe | start | stop | delete` with no server running:
 * spawned as a user runs them, on the state folder's definitions file. (With `hourglass up`
 * running: connector-server-cli.test.ts.)
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import type { ConnectorDescription } from "../../src/stream/connector/index.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

describe("hourglass connector create | list | describe | start | stop | delete, without a server", () => {
  const dir = tempDir("hg-cli-offline-");
  const cli = (args: string[]) => runCli(["--state-dir", dir, ...args]);
  const create = (name: string, ...more: string[]) =>
    cli([
      "connector",
      "create",
      name,
      "--stream",
      "metrics",
      "--database",
      "devops",
      "--table",
      "tbl",
      ...more,
    ]);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates, lists, describes, stops and deletes on the definitions file; start says why it cannot", async () => {
    const created = await create("m", "--mapping", "auto", "--from", "2026-12-07T10:00:00Z");
    assert.equal(created.code, 0, created.stderr);
    assert.match(
      created.stdout,
      /created connector m: metrics → devops\.tbl; stopped: no Hourglass server runs for this state folder: `hourglass up` starts it/,
    );
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "connectors.json"), "utf8"));
    assert.equal(saved.connectors[0].from, "2026-12-07T10:00:00Z");
    assert.equal(saved.connectors[0].mapping, "auto");
    assert.equal(saved.connectors[0].enabled, true);

    const [listed, described, started, stopped] = await Promise.all([
      cli(["connector", "list"]),
      cli(["connector", "describe", "m", "--json"]),
      cli(["connector", "start", "m"]),
      create("other", "--stopped"),
    ]);
    assert.match(listed.stdout, /^Name +State +Stream +Table +Written/);
    assert.match(listed.stdout, /\nm +stopped +metrics +devops\.tbl +0 +\?/);
    const d = JSON.parse(described.stdout) as ConnectorDescription;
    assert.equal(d.state, "stopped");
    assert.equal(d.counts.written, 0);
    assert.equal(d.deadLetterStream, "metrics-deadletter");
    assert.equal(started.code, 2);
    assert.match(
      started.stderr,
      /no Hourglass server runs for .*, so nothing can run connector m: start one with `hourglass up` \(it starts every connector not stopped with `connector stop`, this one included\), or run it in this terminal with `hourglass connector run --name m --stream metrics --database devops --table tbl`/,
    );
    assert.equal(stopped.code, 0, stopped.stderr);

    const marked = await cli(["connector", "stop", "m"]);
    assert.equal(marked.code, 0, marked.stderr);
    assert.match(
      marked.stdout,
      /connector m is not running \(no server runs for .*\); marked stopped: `hourglass up` will not start it/,
    );
    const after = JSON.parse(fs.readFileSync(path.join(dir, "connectors.json"), "utf8"));
    assert.deepEqual(
      after.connectors.map((c: { name: string; enabled: boolean }) => [c.name, c.enabled]),
      [
        ["m", false],
        ["other", false],
      ],
    );

    const [deleted, kept] = await Promise.all([
      cli(["connector", "delete", "other"]),
      cli(["connector", "describe", "m"]),
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /deleted connector other/);
    assert.match(kept.stdout, /state: stopped: stopped with `connector stop`/);
    const gone = await cli(["connector", "list", "--json"]);
    assert.deepEqual(
      (JSON.parse(gone.stdout) as ConnectorDescription[]).map((c) => c.name),
      ["m"],
    );
  });

  it("refuses an unknown name, a duplicate, a bad name and bad flags, with the reason", async () => {
    const checks: [string[], RegExp][] = [
      [
        ["connector", "describe", "zzz"],
        /no connector named zzz in .*: `hourglass connector list` shows them/,
      ],
      [["connector", "delete", "zzz"], /no connector named zzz/],
      [["connector", "describe", "a b"], /connector name "a b" must be 1\.\.128 characters/],
      [
        ["connector", "create", "a/b", "--stream", "metrics", "--database", "devops", "--table", "tbl"],
        /connector name "a\/b" must be/,
      ],
      [
        ["connector", "create", "x", "--stream", "metrics", "--database", "devops"],
        /required option '--table <name>'/,
      ],
      [
        [
          "connector",
          "create",
          "x",
          "--stream",
          "metrics",
          "--database",
          "devops",
          "--table",
          "tbl",
          "--from",
          "soon",
        ],
        /from must be trim-horizon, latest or an ISO time/,
      ],
      [
        [
          "connector",
          "create",
          "x",
          "--stream",
          "metrics",
          "--database",
          "devops",
          "--table",
          "tbl",
          "--mapping",
          "xml",
        ],
        /Allowed choices are single, flat, auto/,
      ],
    ];
    const [duplicate, ...results] = await Promise.all([
      (async () => {
        const first = await create("dup");
        assert.equal(first.code, 0, first.stderr);
        return create("dup");
      })(),
      ...checks.map(([args]) => cli(args)),
    ]);
    assert.equal(duplicate!.code, 2);
    assert.match(
      duplicate!.stderr,
      /a connector named dup already exists: pick another name, or delete it first/,
    );
    results.forEach((result, i) => {
      assert.notEqual(result.code, 0, checks[i]![0].join(" "));
      assert.match(result.stderr, checks[i]![1], checks[i]![0].join(" "));
    });
    const listed = await cli(["connector", "list", "--json"]);
    assert.ok(!(JSON.parse(listed.stdout) as ConnectorDescription[]).some((c) => c.name === "x"));
  });

  it("has --help with an example for every command", async () => {
    const commands = ["create", "list", "describe", "start", "stop", "delete"];
    const [group, ...helps] = await Promise.all([
      cli(["connector", "--help"]),
      ...commands.map((c) => cli(["connector", c, "--help"])),
    ]);
    helps.forEach((help, i) => {
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Example:\\n {2}hourglass connector ${commands[i]}`));
    });
    assert.match(helps[0]!.stdout, /--from <position>\s+where shards without a checkpoint\s+start:/);
    assert.match(helps[3]!.stdout, /Needs `hourglass up` running/);
    for (const c of [...commands, "run", "status"]) assert.match(group!.stdout, new RegExp(`\\n {2}${c}\\b`));
  });
});
