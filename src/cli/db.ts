import type { Command } from "commander";
import { withStore } from "./context.js";
import { printJson, renderTable } from "./output.js";

export function registerDb(program: Command): void {
  const db = program
    .command("db")
    .description("Timestream databases: create, list, describe, update, delete");
  db.command("create <name>")
    .description("create a database")
    .action(async (name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => printJson(await store.createDatabase(name)));
    });
  db.command("list")
    .description("list databases")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const dbs = await store.listDatabaseDescriptions();
        if (o.json) return printJson(dbs);
        console.log(
          renderTable(
            ["DatabaseName", "TableCount", "CreationTime"],
            dbs.map((d) => [d.DatabaseName, String(d.TableCount), new Date(d.CreationTime).toISOString()]),
          ),
        );
      });
    });
  db.command("describe <name>")
    .description("describe a database")
    .action(async (name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => printJson(await store.describeDatabase(name)));
    });
  db.command("update <name>")
    .description("update a database (Timestream only changes its KMS key; here it refreshes LastUpdatedTime)")
    .action(async (name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => printJson(await store.updateDatabase(name)));
    });
  db.command("delete <name>")
    .description("delete a database (refused while it has tables)")
    .action(async (name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        await store.deleteDatabase(name);
        console.log(`deleted database ${name}`);
      });
    });
}
