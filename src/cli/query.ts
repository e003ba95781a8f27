import { type Command, InvalidArgumentError, Option } from "commander";
import { withStore } from "./context.js";
import { createQueryPrinter, type QueryFormat, queryFormats } from "./query-output.js";

const formatHelp = `
Formats (--format):
  table       aligned columns for people (default); the row count goes to stderr
  csv         a header line, then one line a row (values as Timestream prints them)
  json        one JSON document: {"columns":[{"name","type"}],"rows":[{column: value, …}]}
              NULL is null; BOOLEAN true/false; INTEGER, BIGINT and DOUBLE are numbers, except
              a BIGINT beyond ±9007199254740991 (2^53 - 1, which JSON readers would round) and a
              DOUBLE NaN/Infinity, which are strings; arrays are arrays, rows are objects,
              timeseries are [{"time","value"}]; timestamps, dates and VARCHAR are Timestream's text
  jsonl       one row object a line, values as in json
  timestream  the Query API's response as \`aws timestream-query query\` prints it (it pages and
              merges): every page's Rows, then the first page's ColumnInfo, QueryId and
              QueryStatus, and QueryInsightsResponse null (ScalarValue strings, NullValue true)`;

export function registerQuery(program: Command): void {
  program
    .command("query <sql>")
    .description("run a Timestream SQL query and print every page of its result")
    .addOption(new Option("--format <format>", "output format").choices(queryFormats).default("table"))
    .option("--max-rows <n>", "rows per page (1-1000), as Timestream's MaxRows", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new InvalidArgumentError("must be an integer from 1 to 1000");
      return n;
    })
    .addHelpText(
      "after",
      `${formatHelp}\n\nExamples:\n  hourglass query 'SELECT instance_name, BIN(time, 15s) AS b, AVG(measure_value::double) FROM "airflow-db"."airflow-table" WHERE time > ago(1h) GROUP BY 1, 2'\n  hourglass query --format json 'SELECT count(*) AS n FROM "airflow-db"."airflow-table"'\n  hourglass query "UNLOAD (SELECT * FROM \\"airflow-db\\".\\"airflow-table\\" WHERE time > ago(1h)) TO 's3://demo-airflow-ts-output/unload/' WITH (format = 'PARQUET')"\n    (writes the files to the lake and prints one row: rows, metadataFile, manifestFile)`,
    )
    .action(async (sql: string, o: { format: QueryFormat; maxRows?: number }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const printer = createQueryPrinter(o.format, (text) => process.stdout.write(text));
        let page = await store.query({ QueryString: sql, MaxRows: o.maxRows });
        let rows = 0;
        for (;;) {
          rows += page.Rows.length;
          printer.page(page);
          if (!page.NextToken) break;
          page = await store.query({ QueryString: sql, NextToken: page.NextToken, MaxRows: o.maxRows });
        }
        printer.end();
        if (o.format === "table") console.error(`(${rows} row${rows === 1 ? "" : "s"})`);
      });
    });
}
