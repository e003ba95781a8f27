import { type Command, InvalidArgumentError, Option } from "commander";
import { withStore } from "./context.js";
import { formatQueryPage, type OutputFormat } from "./output.js";

export function registerQuery(program: Command): void {
  program
    .command("query <sql>")
    .description("run a Timestream SQL query and print every page of its result")
    .addOption(
      new Option("--format <format>", "output format").choices(["table", "csv", "json"]).default("table"),
    )
    .option("--max-rows <n>", "rows per page (1-1000), as Timestream's MaxRows", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new InvalidArgumentError("must be an integer from 1 to 1000");
      return n;
    })
    .addHelpText(
      "after",
      `\nExample:\n  hourglass query 'SELECT instance_name, BIN(time, 15s) AS b, AVG(measure_value::double) FROM "airflow-db"."airflow-table" WHERE time > ago(1h) GROUP BY 1, 2'`,
    )
    .action(async (sql: string, o: { format: OutputFormat; maxRows?: number }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        let page = await store.query({ QueryString: sql, MaxRows: o.maxRows });
        let first = true;
        let rows = 0;
        for (;;) {
          rows += page.Rows.length;
          if (page.Rows.length > 0 || first) {
            const text = formatQueryPage(page, o.format, first);
            if (text) process.stdout.write(`${text}\n`);
          }
          first = false;
          if (!page.NextToken) break;
          page = await store.query({ QueryString: sql, NextToken: page.NextToken, MaxRows: o.maxRows });
        }
        if (o.format === "table") console.error(`(${rows} row${rows === 1 ? "" : "s"})`);
      });
    });
}
