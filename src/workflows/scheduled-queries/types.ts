/**
 * Timestream scheduled queries as Hourglass keeps them: the request's members as the
 * CreateScheduledQuery API reference names them, plus what Hourglass adds (the generated DAG's id,
 * its cron, the run summaries). Times are epoch milliseconds here; the AWS layer turns them into
 * the protocol's timestamps.
 */
import type { ScalarMeasureValueType } from "../../store/index.js";

export type ScheduledQueryState = "ENABLED" | "DISABLED";
export type RunStatus =
  | "AUTO_TRIGGER_SUCCESS"
  | "AUTO_TRIGGER_FAILURE"
  | "MANUAL_TRIGGER_SUCCESS"
  | "MANUAL_TRIGGER_FAILURE";

export interface DimensionMapping {
  Name: string;
  DimensionValueType: "VARCHAR";
}

export interface MultiMeasureAttributeMapping {
  SourceColumn: string;
  TargetMultiMeasureAttributeName?: string;
  MeasureValueType: Exclude<ScalarMeasureValueType, "TIMESTAMP"> | "TIMESTAMP";
}

export interface MultiMeasureMappings {
  TargetMultiMeasureName?: string;
  MultiMeasureAttributeMappings: MultiMeasureAttributeMapping[];
}

export interface MixedMeasureMapping {
  MeasureName?: string;
  SourceColumn?: string;
  TargetMeasureName?: string;
  MeasureValueType: ScalarMeasureValueType | "MULTI";
  MultiMeasureAttributeMappings?: MultiMeasureAttributeMapping[];
}

export interface TimestreamConfiguration {
  DatabaseName: string;
  TableName: string;
  TimeColumn: string;
  DimensionMappings: DimensionMapping[];
  MultiMeasureMappings?: MultiMeasureMappings;
  MixedMeasureMappings?: MixedMeasureMapping[];
  MeasureNameColumn?: string;
}

export interface ErrorReportConfiguration {
  S3Configuration: { BucketName: string; ObjectKeyPrefix?: string; EncryptionOption?: string };
}

export interface ExecutionStats {
  ExecutionTimeInMillis: number;
  DataWrites: number;
  BytesMetered: number;
  CumulativeBytesScanned: number;
  RecordsIngested: number;
  QueryResultRows: number;
}

export interface RunSummary {
  InvocationTime: number;
  TriggerTime: number;
  RunStatus: RunStatus;
  ExecutionStats: ExecutionStats;
  ErrorReportLocation?: { S3ReportLocation: { BucketName: string; ObjectKey: string } };
  FailureReason?: string;
}

export interface ScheduledQueryDefinition {
  Arn: string;
  Name: string;
  QueryString: string;
  CreationTime: number;
  State: ScheduledQueryState;
  ScheduleConfiguration: { ScheduleExpression: string };
  /** Accepted and kept, never used: Hourglass has no SNS (see docs/api.md). */
  NotificationConfiguration: unknown;
  TargetConfiguration?: { TimestreamConfiguration: TimestreamConfiguration };
  ScheduledQueryExecutionRoleArn: string;
  KmsKeyId?: string;
  ErrorReportConfiguration: ErrorReportConfiguration;
  ClientToken?: string;
  Tags: { Key: string; Value: string }[];
  /** The five-field cron the schedule expression stands for. */
  cron: string;
  /** The generated DAG that runs it. */
  dagId: string;
  LastRunSummary?: RunSummary;
  /** The last failed runs, newest first (at most 5, as Timestream keeps). */
  RecentlyFailedRuns: RunSummary[];
}
