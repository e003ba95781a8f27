/**
 * The store's public types: Timestream's data model (WriteRecords, databases, tables) and query
 * results shaped as Timestream returns them. Field names follow the Timestream API so that the
 * AWS-compatible endpoint is a thin layer.
 */
import type { ScalarType } from "../sql/contract.js";

export type MeasureValueType = "DOUBLE" | "BIGINT" | "VARCHAR" | "BOOLEAN" | "TIMESTAMP" | "MULTI";
export type ScalarMeasureValueType = Exclude<MeasureValueType, "MULTI">;
export type TimeUnit = "MILLISECONDS" | "SECONDS" | "MICROSECONDS" | "NANOSECONDS";

export interface Dimension {
  Name: string;
  Value: string;
  DimensionValueType?: "VARCHAR";
}

export interface MeasureValue {
  Name: string;
  Value: string;
  Type: ScalarMeasureValueType;
}

/** One record, as in Timestream's WriteRecords (every field optional: CommonAttributes fill gaps). */
export interface WriteRecord {
  Dimensions?: Dimension[];
  MeasureName?: string;
  MeasureValue?: string;
  MeasureValueType?: MeasureValueType;
  MeasureValues?: MeasureValue[];
  Time?: string;
  TimeUnit?: TimeUnit;
  Version?: number | bigint;
}

export interface WriteRecordsRequest {
  DatabaseName: string;
  TableName: string;
  CommonAttributes?: WriteRecord;
  Records: WriteRecord[];
}

export interface RejectedRecord {
  RecordIndex: number;
  Reason: string;
  ExistingVersion?: number;
}

export interface WriteResult {
  RecordsIngested: { Total: number; MemoryStore: number; MagneticStore: number };
  /** Records refused, by index in the request; the others were written. */
  rejected: RejectedRecord[];
}

export interface RetentionProperties {
  MemoryStoreRetentionPeriodInHours: number;
  MagneticStoreRetentionPeriodInDays: number;
}

export interface MagneticStoreWriteProperties {
  EnableMagneticStoreWrites: boolean;
}

export interface DatabaseDescription {
  Arn: string;
  DatabaseName: string;
  TableCount: number;
  CreationTime: Date;
  LastUpdatedTime: Date;
}

export interface TableDescription {
  Arn: string;
  DatabaseName: string;
  TableName: string;
  TableStatus: "ACTIVE";
  RetentionProperties: RetentionProperties;
  MagneticStoreWriteProperties: MagneticStoreWriteProperties;
  CreationTime: Date;
  LastUpdatedTime: Date;
  /** Columns as DESCRIBE shows them (dimensions, measure_name, time, measure values, multi attributes). */
  Schema: { Name: string; Type: ScalarType; Role: string }[];
}

export interface CreateTableInput {
  DatabaseName: string;
  TableName: string;
  RetentionProperties?: Partial<RetentionProperties>;
  MagneticStoreWriteProperties?: Partial<MagneticStoreWriteProperties>;
}

export interface UpdateTableInput {
  DatabaseName: string;
  TableName: string;
  RetentionProperties?: Partial<RetentionProperties>;
  MagneticStoreWriteProperties?: Partial<MagneticStoreWriteProperties>;
}

/** Timestream's Query response types. */
export interface ColumnType {
  ScalarType?: ScalarType;
  ArrayColumnInfo?: ColumnInfo;
  RowColumnInfo?: ColumnInfo[];
  TimeSeriesMeasureValueColumnInfo?: ColumnInfo;
}
export interface ColumnInfo {
  Name?: string;
  Type: ColumnType;
}
export interface Datum {
  ScalarValue?: string;
  NullValue?: boolean;
  ArrayValue?: Datum[];
  RowValue?: { Data: Datum[] };
  TimeSeriesValue?: { Time: string; Value: Datum }[];
}
export interface Row {
  Data: Datum[];
}
export interface QueryResponse {
  QueryId: string;
  ColumnInfo: ColumnInfo[];
  Rows: Row[];
  NextToken?: string;
  QueryStatus: {
    ProgressPercentage: number;
    CumulativeBytesScanned: number;
    CumulativeBytesMetered: number;
  };
}

export interface QueryInput {
  QueryString: string;
  MaxRows?: number;
  NextToken?: string;
}

/** Export of a query result to a file, done inside the engine (rows never become JS objects). */
export interface ExportInput {
  /** Timestream SQL. */
  query: string;
  /** Absolute path of the file to write (the caller handles atomic rename). */
  path: string;
  format: "csv" | "parquet";
  /** CSV: write a header line. */
  header?: boolean;
  /** CSV: a leading unnamed 0-based index column, as pandas' to_csv writes. */
  indexColumn?: boolean;
  gzip?: boolean;
}

export interface ExportResult {
  rows: number;
  columns: string[];
}
