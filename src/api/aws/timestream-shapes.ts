/**
 * The store's descriptions in the shapes of Timestream's API. The store's table description also
 * lists its columns (`Schema` as DESCRIBE shows them); Timestream's `Schema` is the partition key
 * instead, and Hourglass partitions by measure name only, Timestream's default.
 */
import type { DatabaseDescription, TableDescription } from "../../store/index.js";

export const DEFAULT_TABLE_SCHEMA = { CompositePartitionKey: [{ Type: "MEASURE" }] };

export interface TimestreamDatabase {
  Arn: string;
  DatabaseName: string;
  TableCount: number;
  CreationTime: Date;
  LastUpdatedTime: Date;
}

export interface TimestreamTable {
  Arn: string;
  DatabaseName: string;
  TableName: string;
  TableStatus: string;
  RetentionProperties: TableDescription["RetentionProperties"];
  MagneticStoreWriteProperties: TableDescription["MagneticStoreWriteProperties"];
  Schema: typeof DEFAULT_TABLE_SCHEMA;
  CreationTime: Date;
  LastUpdatedTime: Date;
}

export function databaseShape(d: DatabaseDescription): TimestreamDatabase {
  return {
    Arn: d.Arn,
    DatabaseName: d.DatabaseName,
    TableCount: d.TableCount,
    CreationTime: new Date(d.CreationTime),
    LastUpdatedTime: new Date(d.LastUpdatedTime),
  };
}

export function tableShape(t: TableDescription): TimestreamTable {
  return {
    Arn: t.Arn,
    DatabaseName: t.DatabaseName,
    TableName: t.TableName,
    TableStatus: t.TableStatus,
    RetentionProperties: t.RetentionProperties,
    MagneticStoreWriteProperties: t.MagneticStoreWriteProperties,
    Schema: DEFAULT_TABLE_SCHEMA,
    CreationTime: new Date(t.CreationTime),
    LastUpdatedTime: new Date(t.LastUpdatedTime),
  };
}
