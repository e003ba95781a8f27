import fs from "node:fs";
import type { Command } from "commander";
import { validationError } from "../errors.js";
import type { RejectedRecord, WriteRecord } from "../store/index.js";
import { withStore } from "./context.js";

const REQUEST_SIZE = 100;

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== "-") {
    if (!fs.existsSync(file)) throw validationError(`file ${file} does not exist`);
    return fs.readFileSync(file, "utf8");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Accepts a WriteRecords request body ({ Records, CommonAttributes }) or a bare list of records. */
export function parseWriteInput(
  text: string,
  source: string,
): { records: WriteRecord[]; common?: WriteRecord } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw validationError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) return { records: parsed as WriteRecord[] };
  if (parsed && typeof parsed === "object" && Array.isArray((parsed as { Records?: unknown }).Records)) {
    const body = parsed as { Records: WriteRecord[]; CommonAttributes?: WriteRecord };
    return { records: body.Records, common: body.CommonAttributes };
  }
  throw validationError(`${source} must hold a list of records or an object with a "Records" list`);
}

export function registerWrite(program: Command): void {
  program
    .command("write <database> <table>")
    .description("write records (Timestream WriteRecords JSON) from a file or standard input")
    .option(
      "-f, --file <path>",
      'JSON file: a list of records, or {"Records": [...], "CommonAttributes": {...}}; - or none reads stdin',
    )
    .addHelpText(
      "after",
      `\nExample:\n  echo '[{"Dimensions":[{"Name":"host","Value":"a"}],"MeasureName":"cpu","MeasureValue":"1.5","Time":"${Date.now()}"}]' | hourglass write airflow-db airflow-table\n\nRecords are sent 100 to a request, as Timestream allows. Rejected records are listed with their index in the input.`,
    )
    .action(async (database: string, table: string, o: { file?: string }, cmd: Command) => {
      const { records, common } = parseWriteInput(await readInput(o.file), o.file ?? "standard input");
      if (records.length === 0) throw validationError("there are no records to write");
      await withStore(cmd, async (store) => {
        let ingested = 0;
        const rejected: RejectedRecord[] = [];
        for (let offset = 0; offset < records.length; offset += REQUEST_SIZE) {
          const result = await store.writeRecords({
            DatabaseName: database,
            TableName: table,
            Records: records.slice(offset, offset + REQUEST_SIZE),
            CommonAttributes: common,
          });
          ingested += result.RecordsIngested.Total;
          for (const r of result.rejected) rejected.push({ ...r, RecordIndex: r.RecordIndex + offset });
        }
        console.log(`ingested ${ingested} of ${records.length} records into ${database}.${table}`);
        for (const r of rejected) {
          console.error(
            `rejected record ${r.RecordIndex}: ${r.Reason}${r.ExistingVersion !== undefined ? ` (existing version ${r.ExistingVersion})` : ""}`,
          );
        }
        if (rejected.length > 0) process.exitCode = 1;
      });
    });
}
