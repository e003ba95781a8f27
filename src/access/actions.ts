/**
 * IAM actions: the ones AWS defines for the three services whose APIs Hourglass speaks (so that
 * `policy validate` can tell a typo from an action Hourglass merely does not use), and the table
 * of each AWS-compatible operation Hourglass serves → the IAM action it needs and the resource
 * whose ARN that action is checked against. Enforcement (a later slice) reads the table; the
 * names come from AWS's Service Authorization Reference:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazontimestream.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesis.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 */

const names = (text: string): readonly string[] => text.trim().split(/\s+/);

/** Every IAM action AWS defines, per service prefix (names as AWS spells them). */
export const AWS_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  timestream: names(`
    CancelQuery CreateBatchLoadTask CreateDatabase CreateScheduledQuery CreateTable DeleteDatabase
    DeleteScheduledQuery DeleteTable DescribeAccountSettings DescribeBatchLoadTask DescribeDatabase
    DescribeEndpoints DescribeScheduledQuery DescribeTable ExecuteScheduledQuery GetAwsBackupStatus
    GetAwsRestoreStatus ListBatchLoadTasks ListDatabases ListMeasures ListScheduledQueries ListTables
    ListTagsForResource PrepareQuery ResumeBatchLoadTask Select SelectValues StartAwsBackupJob
    StartAwsRestoreJob TagResource Unload UntagResource UpdateAccountSettings UpdateDatabase
    UpdateScheduledQuery UpdateTable WriteRecords`),
  kinesis: names(`
    AddTagsToStream AssociateStreamsWithChannel CreateChannel CreateStream DecreaseStreamRetentionPeriod
    DeleteChannel DeleteResourcePolicy DeleteStream DeregisterStreamConsumer DescribeAccountSettings
    DescribeChannel DescribeLimits DescribeStream DescribeStreamConsumer DescribeStreamSummary
    DisableEnhancedMonitoring EnableEnhancedMonitoring GetRecords GetResourcePolicy GetShardIterator
    IncreaseStreamRetentionPeriod ListChannels ListShards ListStreamConsumers ListStreams
    ListTagsForResource ListTagsForStream MergeShards PutRecord PutRecords PutResourcePolicy
    RegisterStreamConsumer RemoveTagsFromStream SplitShard StartStreamEncryption StopStreamEncryption
    SubscribeToShard TagResource UntagResource UpdateAccountSettings UpdateChannel UpdateMaxRecordSize
    UpdateShardCount UpdateStreamMode UpdateStreamWarmThroughput`),
  s3: names(`
    AbortMultipartUpload AllowVendedLogDeliveryForResource AssociateAccessGrantsIdentityCenter
    BypassGovernanceRetention CreateAccessGrant CreateAccessGrantsInstance CreateAccessGrantsLocation
    CreateAccessPoint CreateAccessPointForObjectLambda CreateBucket CreateBucketMetadataTableConfiguration
    CreateJob CreateMultiRegionAccessPoint CreateStorageLensGroup DeleteAccessGrant
    DeleteAccessGrantsInstance DeleteAccessGrantsInstanceResourcePolicy DeleteAccessGrantsLocation
    DeleteAccessPoint DeleteAccessPointForObjectLambda DeleteAccessPointPolicy
    DeleteAccessPointPolicyForObjectLambda DeleteBucket DeleteBucketMetadataTableConfiguration
    DeleteBucketPolicy DeleteBucketWebsite DeleteJobTagging DeleteMultiRegionAccessPoint DeleteObject
    DeleteObjectAnnotation DeleteObjectTagging DeleteObjectVersion DeleteObjectVersionAnnotation
    DeleteObjectVersionTagging DeleteStorageLensConfiguration DeleteStorageLensConfigurationTagging
    DeleteStorageLensGroup DescribeJob DescribeMultiRegionAccessPointOperation
    DissociateAccessGrantsIdentityCenter GetAccelerateConfiguration GetAccessGrant GetAccessGrantsInstance
    GetAccessGrantsInstanceForPrefix GetAccessGrantsInstanceResourcePolicy GetAccessGrantsLocation
    GetAccessPoint GetAccessPointConfigurationForObjectLambda GetAccessPointForObjectLambda
    GetAccessPointPolicy GetAccessPointPolicyForObjectLambda GetAccessPointPolicyStatus
    GetAccessPointPolicyStatusForObjectLambda GetAccountPublicAccessBlock GetAnalyticsConfiguration
    GetBucketAbac GetBucketAcl GetBucketCORS GetBucketLocation GetBucketLogging
    GetBucketMetadataTableConfiguration GetBucketNotification GetBucketObjectLockConfiguration
    GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock
    GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite GetDataAccess
    GetEncryptionConfiguration GetIntelligentTieringConfiguration GetInventoryConfiguration GetJobTagging
    GetLifecycleConfiguration GetMetricsConfiguration GetMultiRegionAccessPoint
    GetMultiRegionAccessPointPolicy GetMultiRegionAccessPointPolicyStatus GetMultiRegionAccessPointRoutes
    GetObject GetObjectAcl GetObjectAnnotation GetObjectAttributes GetObjectLegalHold GetObjectRetention
    GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl GetObjectVersionAnnotation
    GetObjectVersionAnnotationForReplication GetObjectVersionAttributes GetObjectVersionForReplication
    GetObjectVersionTagging GetObjectVersionTorrent GetReplicationConfiguration
    GetStorageLensConfiguration GetStorageLensConfigurationTagging GetStorageLensDashboard
    GetStorageLensGroup InitiateReplication ListAccessGrants ListAccessGrantsInstances
    ListAccessGrantsLocations ListAccessPoints ListAccessPointsForObjectLambda ListAllMyBuckets ListBucket
    ListBucketMultipartUploads ListBucketVersions ListCallerAccessGrants ListJobs
    ListMultiRegionAccessPoints ListMultipartUploadParts ListObjectAnnotations ListObjectVersionAnnotations
    ListStorageLensConfigurations ListStorageLensGroups ListTagsForResource ObjectOwnerOverrideToBucketOwner
    PauseReplication PutAccelerateConfiguration PutAccessGrantsInstanceResourcePolicy
    PutAccessPointConfigurationForObjectLambda PutAccessPointPolicy PutAccessPointPolicyForObjectLambda
    PutAccessPointPublicAccessBlock PutAccountPublicAccessBlock PutAnalyticsConfiguration PutBucketAbac
    PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification PutBucketObjectLockConfiguration
    PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment
    PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
    PutIntelligentTieringConfiguration PutInventoryConfiguration PutJobTagging PutLifecycleConfiguration
    PutMetricsConfiguration PutMultiRegionAccessPointPolicy PutObject PutObjectAcl PutObjectAnnotation
    PutObjectLegalHold PutObjectRetention PutObjectTagging PutObjectVersionAcl PutObjectVersionAnnotation
    PutObjectVersionTagging PutReplicationConfiguration PutStorageLensConfiguration
    PutStorageLensConfigurationTagging ReplicateDelete ReplicateObject ReplicateObjectAnnotation
    ReplicateTags RestoreObject SubmitMultiRegionAccessPointRoutes TagResource UntagResource
    UpdateAccessGrantsLocation UpdateBucketMetadataAnnotationTableConfiguration
    UpdateBucketMetadataInventoryTableConfiguration UpdateBucketMetadataJournalTableConfiguration
    UpdateJobPriority UpdateJobStatus UpdateObjectEncryption UpdateStorageLensGroup`),
};

/** Every known action as `service:Action`, and by its lower-case form (IAM compares actions case-insensitively). */
export const KNOWN_ACTIONS: readonly string[] = Object.entries(AWS_ACTIONS).flatMap(([service, actions]) =>
  actions.map((action) => `${service}:${action}`),
);
const knownByLowerCase = new Map(KNOWN_ACTIONS.map((action) => [action.toLowerCase(), action]));

/** The action as AWS spells it, or undefined when AWS defines no such action (among our services). */
export const canonicalAction = (action: string): string | undefined =>
  knownByLowerCase.get(action.toLowerCase());

/**
 * The resource an action is checked against. `*` is an action without resource-level
 * permissions: its statement must say `"Resource": "*"` (or a pattern that matches `*`).
 */
export type ResourceKind = "database" | "table" | "stream" | "bucket" | "object" | "*";

/** The ARN of each kind, with the parts a request fills in (for messages and docs). */
export const RESOURCE_SHAPES: Readonly<Record<ResourceKind, string>> = {
  database: "arn:aws:timestream:REGION:ACCOUNT:database/DATABASE",
  table: "arn:aws:timestream:REGION:ACCOUNT:database/DATABASE/table/TABLE",
  stream: "arn:aws:kinesis:REGION:ACCOUNT:stream/STREAM",
  bucket: "arn:aws:s3:::BUCKET",
  object: "arn:aws:s3:::BUCKET/KEY",
  "*": "*",
};

export interface OperationAccess {
  /** The AWS API (the X-Amz-Target prefix's service, or S3). */
  readonly api: "timestream-write" | "timestream-query" | "kinesis" | "s3";
  /** The AWS operation, as in X-Amz-Target or S3's API reference. */
  readonly operation: string;
  /** The IAM action checked, as AWS spells it. */
  readonly action: string;
  /** What the action is checked against. */
  readonly resource: ResourceKind;
  /** How the resource is found in the request, when that is not obvious. */
  readonly note?: string;
}

const op = (
  api: OperationAccess["api"],
  operation: string,
  action: string,
  resource: ResourceKind,
  note?: string,
): OperationAccess =>
  Object.freeze(
    note === undefined ? { api, operation, action, resource } : { api, operation, action, resource, note },
  );

/**
 * Each operation Hourglass serves on its AWS-compatible endpoints (docs/api.md) → action and
 * resource. An operation with two entries needs both (a copy reads one object and writes another).
 */
export const OPERATION_ACCESS: readonly OperationAccess[] = Object.freeze([
  op("timestream-write", "DescribeEndpoints", "timestream:DescribeEndpoints", "*"),
  op("timestream-write", "CreateDatabase", "timestream:CreateDatabase", "database"),
  op("timestream-write", "DescribeDatabase", "timestream:DescribeDatabase", "database"),
  op("timestream-write", "ListDatabases", "timestream:ListDatabases", "*"),
  op("timestream-write", "UpdateDatabase", "timestream:UpdateDatabase", "database"),
  op("timestream-write", "DeleteDatabase", "timestream:DeleteDatabase", "database"),
  op("timestream-write", "CreateTable", "timestream:CreateTable", "table"),
  op("timestream-write", "DescribeTable", "timestream:DescribeTable", "table"),
  op(
    "timestream-write",
    "ListTables",
    "timestream:ListTables",
    "database",
    "the DatabaseName's database; without one, each database listed",
  ),
  op("timestream-write", "UpdateTable", "timestream:UpdateTable", "table"),
  op("timestream-write", "DeleteTable", "timestream:DeleteTable", "table"),
  op("timestream-write", "WriteRecords", "timestream:WriteRecords", "table"),
  op(
    "timestream-write",
    "ListTagsForResource",
    "timestream:ListTagsForResource",
    "table",
    "the ResourceARN (a database or a table)",
  ),
  op(
    "timestream-write",
    "TagResource",
    "timestream:TagResource",
    "table",
    "the ResourceARN (a database or a table)",
  ),
  op(
    "timestream-write",
    "UntagResource",
    "timestream:UntagResource",
    "table",
    "the ResourceARN (a database or a table)",
  ),
  op(
    "timestream-query",
    "Query",
    "timestream:Select",
    "table",
    "each table the query reads; a query that reads no table needs timestream:SelectValues on *",
  ),
  op(
    "timestream-query",
    "Query",
    "timestream:SelectValues",
    "*",
    "only for a query that reads no table (SELECT 1)",
  ),
  op("timestream-query", "PrepareQuery", "timestream:Select", "table", "each table the query reads"),
  op("timestream-query", "CancelQuery", "timestream:CancelQuery", "*"),
  op("kinesis", "CreateStream", "kinesis:CreateStream", "stream"),
  op("kinesis", "DeleteStream", "kinesis:DeleteStream", "stream"),
  op("kinesis", "DescribeStream", "kinesis:DescribeStream", "stream"),
  op("kinesis", "DescribeStreamSummary", "kinesis:DescribeStreamSummary", "stream"),
  op("kinesis", "ListStreams", "kinesis:ListStreams", "*"),
  op("kinesis", "ListShards", "kinesis:ListShards", "stream"),
  op("kinesis", "PutRecord", "kinesis:PutRecord", "stream"),
  op("kinesis", "PutRecords", "kinesis:PutRecords", "stream"),
  op("kinesis", "GetShardIterator", "kinesis:GetShardIterator", "stream"),
  op("kinesis", "GetRecords", "kinesis:GetRecords", "stream", "the stream the shard iterator belongs to"),
  op("kinesis", "IncreaseStreamRetentionPeriod", "kinesis:IncreaseStreamRetentionPeriod", "stream"),
  op("kinesis", "DecreaseStreamRetentionPeriod", "kinesis:DecreaseStreamRetentionPeriod", "stream"),
  op("kinesis", "UpdateShardCount", "kinesis:UpdateShardCount", "stream"),
  op("s3", "ListBuckets", "s3:ListAllMyBuckets", "*"),
  op("s3", "CreateBucket", "s3:CreateBucket", "bucket"),
  op("s3", "DeleteBucket", "s3:DeleteBucket", "bucket"),
  op("s3", "HeadBucket", "s3:ListBucket", "bucket"),
  op("s3", "GetBucketLocation", "s3:GetBucketLocation", "bucket"),
  op("s3", "GetBucketVersioning", "s3:GetBucketVersioning", "bucket"),
  op("s3", "ListObjects", "s3:ListBucket", "bucket"),
  op("s3", "ListObjectsV2", "s3:ListBucket", "bucket"),
  op("s3", "ListMultipartUploads", "s3:ListBucketMultipartUploads", "bucket"),
  op("s3", "GetObject", "s3:GetObject", "object"),
  op("s3", "HeadObject", "s3:GetObject", "object"),
  op("s3", "PutObject", "s3:PutObject", "object"),
  op("s3", "CopyObject", "s3:PutObject", "object", "the destination object"),
  op("s3", "CopyObject", "s3:GetObject", "object", "the source object (x-amz-copy-source)"),
  op("s3", "DeleteObject", "s3:DeleteObject", "object"),
  op("s3", "DeleteObjects", "s3:DeleteObject", "object", "each key in the request"),
  op("s3", "CreateMultipartUpload", "s3:PutObject", "object"),
  op("s3", "UploadPart", "s3:PutObject", "object"),
  op("s3", "UploadPartCopy", "s3:PutObject", "object", "the destination object"),
  op("s3", "UploadPartCopy", "s3:GetObject", "object", "the source object (x-amz-copy-source)"),
  op("s3", "CompleteMultipartUpload", "s3:PutObject", "object"),
  op("s3", "AbortMultipartUpload", "s3:AbortMultipartUpload", "object"),
  op("s3", "ListParts", "s3:ListMultipartUploadParts", "object"),
]);

/** The entries of one operation (two for a copy or a Query), for the enforcement to check. */
export const accessFor = (api: OperationAccess["api"], operation: string): readonly OperationAccess[] =>
  OPERATION_ACCESS.filter((entry) => entry.api === api && entry.operation === operation);

/** The resource kinds each action Hourglass uses is checked against (lower-case action → kinds). */
export const RESOURCE_KINDS_OF_ACTION: ReadonlyMap<string, ReadonlySet<ResourceKind>> = (() => {
  const map = new Map<string, Set<ResourceKind>>();
  for (const entry of OPERATION_ACCESS) {
    const key = entry.action.toLowerCase();
    if (!map.has(key)) map.set(key, new Set());
    map.get(key)!.add(entry.resource);
  }
  // Tags name a database or a table: either ARN is right.
  for (const tagAction of [
    "timestream:listtagsforresource",
    "timestream:tagresource",
    "timestream:untagresource",
  ])
    map.get(tagAction)!.add("database");
  return map;
})();

/** Services whose actions Hourglass knows; actions of other services never apply here. */
export const KNOWN_SERVICES: readonly string[] = Object.keys(AWS_ACTIONS);
