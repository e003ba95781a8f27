/**
 * The zod schemas of the store's REST routes (store-routes.ts): requests as they are checked,
 * answers as the store gives them, field names as Timestream's API has them. Rules that need the
 * catalog (names, existence) stay in the store, which the AWS endpoints share.
 */
import { z } from "zod";
import { checkedByService, isoTime } from "../openapi/index.js";

/** An integer range with the store's own wording, naming the value that was sent (and the field, if given). */
function integerFrom(min: number, max: number, field?: string) {
  const message = (issue: { input?: unknown }) =>
    `${field ? `${field} ` : ""}must be an integer from ${min} to ${max}, got ${JSON.stringify(issue.input)}`;
  return z
    .number({ error: message })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
}

export const databaseParams = z.object({ db: z.string().describe("the database's name") });
export const tableParams = databaseParams.extend({ table: z.string().describe("the table's name") });

export const databaseSchema = z
  .object({
    Arn: z.string(),
    DatabaseName: z.string(),
    TableCount: z.number().int(),
    CreationTime: isoTime,
    LastUpdatedTime: isoTime,
  })
  .meta({ id: "Database" });

const retentionInput = z.object({
  MemoryStoreRetentionPeriodInHours: integerFrom(1, 8766).optional().describe("default 6"),
  MagneticStoreRetentionPeriodInDays: integerFrom(1, 73000).optional().describe("default 73,000"),
});
const magneticWritesInput = z.object({
  EnableMagneticStoreWrites: z
    .boolean()
    .optional()
    .describe("accept records older than the memory store (default false)"),
});

export const createDatabaseBody = z.object({
  DatabaseName: z.string().describe("3 to 256 characters from letters, digits, _ . -"),
});

export const createTableBody = z.object({
  TableName: z.string().describe("3 to 256 characters from letters, digits, _ . -"),
  RetentionProperties: retentionInput.optional(),
  MagneticStoreWriteProperties: magneticWritesInput.optional(),
});

export const updateTableBody = z.object({
  RetentionProperties: retentionInput.optional(),
  MagneticStoreWriteProperties: magneticWritesInput.optional(),
});

export const tableSchema = z
  .object({
    Arn: z.string(),
    DatabaseName: z.string(),
    TableName: z.string(),
    TableStatus: z.literal("ACTIVE"),
    RetentionProperties: z.object({
      MemoryStoreRetentionPeriodInHours: z.number().int(),
      MagneticStoreRetentionPeriodInDays: z.number().int(),
    }),
    MagneticStoreWriteProperties: z.object({ EnableMagneticStoreWrites: z.boolean() }),
    CreationTime: isoTime,
    LastUpdatedTime: isoTime,
    Schema: z
      .array(z.object({ Name: z.string(), Type: z.string(), Role: z.string() }))
      .describe("the columns a query sees: dimensions, measure_name, time, measure values"),
  })
  .meta({ id: "Table" });

const measureValueTypes = ["DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP", "MULTI"] as const;

const dimensionSchema = z
  .object({ Name: z.string(), Value: z.string(), DimensionValueType: z.literal("VARCHAR").optional() })
  .meta({ id: "Dimension" });

/** What the store reads of a record: the document shows it, the store checks it record by record. */
const writeRecordShape = z
  .object({
    Dimensions: z.array(dimensionSchema).optional(),
    MeasureName: z.string().optional(),
    MeasureValue: z.string().optional().describe('the value as text, e.g. "12.5"'),
    MeasureValueType: z.enum(measureValueTypes).optional(),
    MeasureValues: z
      .array(
        z.object({
          Name: z.string(),
          Value: z.string(),
          Type: z.enum(measureValueTypes.filter((t) => t !== "MULTI") as [string, ...string[]]),
        }),
      )
      .optional()
      .describe("for MULTI records"),
    Time: z.string().optional().describe("an integer count of TimeUnit since the epoch, as text"),
    TimeUnit: z.enum(["MILLISECONDS", "SECONDS", "MICROSECONDS", "NANOSECONDS"]).optional(),
    Version: z.number().int().optional(),
  })
  .meta({
    id: "WriteRecord",
    description:
      "One record, as Timestream's WriteRecords has it. Records are checked one by one: a record that breaks a rule is rejected by index in the answer, the others are written.",
  });

const writeRecord = checkedByService(z.unknown(), writeRecordShape);

export const writeRecordsBody = z.object({
  Records: z.array(writeRecord).describe("1 to 100 records"),
  CommonAttributes: checkedByService(z.unknown(), writeRecordShape)
    .optional()
    .describe("fields every record takes unless it has its own"),
});

export const writeResultSchema = z
  .object({
    RecordsIngested: z.object({
      Total: z.number().int(),
      MemoryStore: z.number().int(),
      MagneticStore: z.number().int(),
    }),
    rejected: z.array(
      z.object({
        RecordIndex: z.number().int(),
        Reason: z.string(),
        ExistingVersion: z.number().int().optional(),
      }),
    ),
  })
  .meta({ id: "WriteResult" });

export const queryBody = z.object({
  QueryString: z.string().describe("Timestream SQL (docs/sql.md)"),
  MaxRows: integerFrom(1, 1000, "MaxRows").optional().describe("rows per page (default: about 1 MB)"),
  NextToken: z.string().optional().describe("from the previous page, with the same QueryString"),
});

interface ColumnInfo {
  Name?: string;
  Type: ColumnType;
}
interface ColumnType {
  ScalarType?: string;
  ArrayColumnInfo?: ColumnInfo;
  RowColumnInfo?: ColumnInfo[];
  TimeSeriesMeasureValueColumnInfo?: ColumnInfo;
}
interface Datum {
  ScalarValue?: string;
  NullValue?: boolean;
  ArrayValue?: Datum[];
  RowValue?: { Data: Datum[] };
  TimeSeriesValue?: { Time: string; Value: Datum }[];
}

const columnInfoSchema: z.ZodType<ColumnInfo> = z
  .object({
    Name: z.string().optional(),
    get Type(): z.ZodType<ColumnType> {
      return columnTypeSchema;
    },
  })
  .meta({ id: "ColumnInfo" });

const columnTypeSchema: z.ZodType<ColumnType> = z
  .object({
    ScalarType: z.string().optional(),
    get ArrayColumnInfo() {
      return columnInfoSchema.optional();
    },
    get RowColumnInfo() {
      return z.array(columnInfoSchema).optional();
    },
    get TimeSeriesMeasureValueColumnInfo() {
      return columnInfoSchema.optional();
    },
  })
  .meta({ id: "ColumnType" });

const datumSchema: z.ZodType<Datum> = z
  .object({
    ScalarValue: z.string().optional(),
    NullValue: z.boolean().optional(),
    get ArrayValue() {
      return z.array(datumSchema).optional();
    },
    get RowValue() {
      return z.object({ Data: z.array(datumSchema) }).optional();
    },
    get TimeSeriesValue() {
      return z.array(z.object({ Time: z.string(), Value: datumSchema })).optional();
    },
  })
  .meta({ id: "Datum" });

export const queryResponseSchema = z
  .object({
    QueryId: z.string(),
    ColumnInfo: z.array(columnInfoSchema),
    Rows: z.array(z.object({ Data: z.array(datumSchema) })),
    NextToken: z.string().optional().describe("absent on the last page"),
    QueryStatus: z.object({
      ProgressPercentage: z.number(),
      CumulativeBytesScanned: z.number(),
      CumulativeBytesMetered: z.number(),
    }),
  })
  .meta({ id: "QueryResponse" });
