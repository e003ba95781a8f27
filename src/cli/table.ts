import { type Command, InvalidArgumentError } from "commander";
import type { CreateTableInput } from "../store/index.js";
import { withStore } from "./context.js";
import { printJson, renderTable } from "./output.js";

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`'${value}' is not an integer`);
  return n;
};
const bool = (value: string): boolean => {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError(`'${value}' must be true or false`);
};

interface RetentionFlags {
  memoryHours?: number;
  magneticDays?: number;
  magneticWrites?: boolean;
}

function retentionInput(database: string, table: string, o: RetentionFlags): CreateTableInput {
  return {
    DatabaseName: database,
    TableName: table,
    RetentionProperties: {
      ...(o.memoryHours !== undefined ? { MemoryStoreRetentionPeriodInHours: o.memoryHours } : {}),
      ...(o.magneticDays !== undefined ? { MagneticStoreRetentionPeriodInDays: o.magneticDays } : {}),
    },
    ...(o.magneticWrites !== undefined
      ? { MagneticStoreWriteProperties: { EnableMagneticStoreWrites: o.magneticWrites } }
      : {}),
  };
}

export function registerTable(program: Command): void {
  const table = program
    .command("table")
    .description("Timestream tables: create, list, describe, update, delete");
  const withRetention = (c: Command) =>
    c
      .option("--memory-hours <n>", "memory store retention in hours (1-8766; default 6)", integer)
      .option("--magnetic-days <n>", "magnetic store retention in days (1-73000; default 73000)", integer)
      .option("--magnetic-writes <true|false>", "accept records older than the memory store", bool);
  withRetention(table.command("create <database> <table>").description("create a table")).action(
    async (database: string, name: string, o: RetentionFlags, cmd: Command) => {
      await withStore(cmd, async (store) =>
        printJson(await store.createTable(retentionInput(database, name, o))),
      );
    },
  );
  withRetention(table.command("update <database> <table>").description("change a table's retention")).action(
    async (database: string, name: string, o: RetentionFlags, cmd: Command) => {
      await withStore(cmd, async (store) =>
        printJson(await store.updateTable(retentionInput(database, name, o))),
      );
    },
  );
  table
    .command("list [database]")
    .description("list tables (of one database, or all)")
    .option("--json", "print JSON")
    .action(async (database: string | undefined, o: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const tables = await store.listTableDescriptions(database);
        if (o.json) return printJson(tables);
        console.log(
          renderTable(
            ["DatabaseName", "TableName", "MemoryHours", "MagneticDays", "MagneticWrites"],
            tables.map((t) => [
              t.DatabaseName,
              t.TableName,
              String(t.RetentionProperties.MemoryStoreRetentionPeriodInHours),
              String(t.RetentionProperties.MagneticStoreRetentionPeriodInDays),
              String(t.MagneticStoreWriteProperties.EnableMagneticStoreWrites),
            ]),
          ),
        );
      });
    });
  table
    .command("describe <database> <table>")
    .description("describe a table, with its columns")
    .action(async (database: string, name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => printJson(await store.describeTable(database, name)));
    });
  table
    .command("delete <database> <table>")
    .description("delete a table and its data")
    .action(async (database: string, name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        await store.deleteTable(database, name);
        console.log(`deleted table ${database}.${name}`);
      });
    });
}
