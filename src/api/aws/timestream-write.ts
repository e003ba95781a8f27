/**
 * Timestream Write (`Timestream_20181101.*`, JSON 1.0): databases, tables, tags, WriteRecords,
 * DescribeEndpoints. Shapes follow the service model of the AWS SDKs.
 */
import { z } from "zod";
import { HourglassError, isHourglassError, notFound, validationError } from "../../errors.js";
import type { WriteRecordsRequest } from "../../store/index.js";
import { API_MAX_RECORDS_PER_WRITE } from "../../store/index.js";
import type { AwsBackends } from "./backends.js";
import { decodePageToken, pageOf } from "./page-token.js";
import { type Operation, type OperationContext, parseInput } from "./protocol.js";
import { tagListSchema } from "./tags.js";
import { databaseShape, tableShape } from "./timestream-shapes.js";

/** Timestream's page size limit for ListDatabases and ListTables. */
const maxListResults = 20;
/** SDKs cache a discovered endpoint this long (a day, as Timestream answers). */
const endpointCachePeriodMinutes = 1440;

const retentionSchema = z.object({
  MemoryStoreRetentionPeriodInHours: z.number(),
  MagneticStoreRetentionPeriodInDays: z.number(),
});
const magneticWritesSchema = z.object({
  EnableMagneticStoreWrites: z.boolean(),
  // Where AWS would put rejected late records in S3; the store reports rejections in the response only.
  MagneticStoreRejectedDataLocation: z.unknown().optional(),
});
const partitionSchema = z.object({
  CompositePartitionKey: z
    .array(
      z.object({
        Type: z.enum(["DIMENSION", "MEASURE"]),
        Name: z.string().optional(),
        EnforcementInRecord: z.enum(["REQUIRED", "OPTIONAL"]).optional(),
      }),
    )
    .optional(),
});
const listSchema = z.object({
  NextToken: z.string().optional(),
  MaxResults: z.number().int().min(1).max(maxListResults).optional(),
});

/**
 * Built once: zod compiles a schema's checks on first use, and building it in each call made
 * every WriteRecords pay that (about a tenth of the server's CPU time per call).
 */
const writeRecordSchema = z.looseObject({});
const writeRecordsSchema = z.object({
  DatabaseName: z.string(),
  TableName: z.string(),
  Records: z.array(writeRecordSchema),
  CommonAttributes: writeRecordSchema.optional(),
});

/** Hourglass partitions by measure name, Timestream's default; a dimension partition key would be a promise it cannot keep. */
function checkPartitionKey(schema: z.output<typeof partitionSchema> | undefined): void {
  if (schema?.CompositePartitionKey?.some((k) => k.Type !== "MEASURE")) {
    throw validationError(
      "Schema.CompositePartitionKey: only the default measure-name partition key (Type MEASURE) is supported",
    );
  }
}

/** The database or table an ARN names; ResourceNotFoundException when it does not exist here. */
async function resolveArn(backends: AwsBackends, arn: string): Promise<string> {
  const match = /^arn:[^:]+:timestream:[^:]*:[^:]*:database\/([^/]+)(?:\/table\/([^/]+))?$/.exec(arn);
  const missing = () => notFound(`no Timestream database or table has the ARN '${arn}'`, { arn });
  if (!match) throw missing();
  const [, database, table] = match as unknown as [string, string, string | undefined];
  const found =
    table === undefined
      ? await backends.store.describeDatabase(database)
      : await backends.store.describeTable(database, table);
  if (found.Arn !== arn) throw missing();
  return arn;
}

export function timestreamWriteOperations(backends: AwsBackends): Record<string, Operation> {
  const { store, tags } = backends;
  return {
    async DescribeEndpoints(_input, context) {
      const address = backends.describeEndpointsAddress ?? discoveredAddress(context);
      return { Endpoints: [{ Address: address, CachePeriodInMinutes: endpointCachePeriodMinutes }] };
    },

    async CreateDatabase(input) {
      const req = parseInput(
        z.object({
          DatabaseName: z.string(),
          KmsKeyId: z.string().optional(),
          Tags: tagListSchema.optional(),
        }),
        input,
        "CreateDatabase",
      );
      const database = await store.createDatabase(req.DatabaseName);
      if (req.Tags) tags.add(database.Arn, req.Tags);
      return { Database: databaseShape(database) };
    },

    async DescribeDatabase(input) {
      const req = parseInput(z.object({ DatabaseName: z.string() }), input, "DescribeDatabase");
      return { Database: databaseShape(await store.describeDatabase(req.DatabaseName)) };
    },

    async ListDatabases(input) {
      const req = parseInput(listSchema, input, "ListDatabases");
      const all = await store.listDatabaseDescriptions();
      const after =
        req.NextToken === undefined ? undefined : decodePageToken(req.NextToken, "ValidationException");
      const { page, nextToken } = pageOf(all, (d) => d.DatabaseName, after, req.MaxResults ?? maxListResults);
      return { Databases: page.map(databaseShape), ...(nextToken ? { NextToken: nextToken } : {}) };
    },

    async UpdateDatabase(input) {
      // Timestream's UpdateDatabase changes the KMS key only; the local store has no encryption key.
      const req = parseInput(
        z.object({ DatabaseName: z.string(), KmsKeyId: z.string() }),
        input,
        "UpdateDatabase",
      );
      return { Database: databaseShape(await store.updateDatabase(req.DatabaseName)) };
    },

    async DeleteDatabase(input) {
      const req = parseInput(z.object({ DatabaseName: z.string() }), input, "DeleteDatabase");
      const { Arn } = await store.describeDatabase(req.DatabaseName);
      try {
        await store.deleteDatabase(req.DatabaseName);
      } catch (error) {
        // Timestream answers a database that still has tables with a ValidationException.
        if (isHourglassError(error, "Conflict")) throw validationError(error.message, error.context);
        throw error;
      }
      tags.forget(Arn);
      return {};
    },

    async CreateTable(input) {
      const req = parseInput(
        z.object({
          DatabaseName: z.string(),
          TableName: z.string(),
          RetentionProperties: retentionSchema.optional(),
          MagneticStoreWriteProperties: magneticWritesSchema.optional(),
          Schema: partitionSchema.optional(),
          Tags: tagListSchema.optional(),
        }),
        input,
        "CreateTable",
      );
      checkPartitionKey(req.Schema);
      const table = await store.createTable({
        DatabaseName: req.DatabaseName,
        TableName: req.TableName,
        RetentionProperties: req.RetentionProperties,
        MagneticStoreWriteProperties: req.MagneticStoreWriteProperties,
      });
      if (req.Tags) tags.add(table.Arn, req.Tags);
      return { Table: tableShape(table) };
    },

    async DescribeTable(input) {
      const req = parseInput(
        z.object({ DatabaseName: z.string(), TableName: z.string() }),
        input,
        "DescribeTable",
      );
      return { Table: tableShape(await store.describeTable(req.DatabaseName, req.TableName)) };
    },

    async ListTables(input) {
      const req = parseInput(listSchema.extend({ DatabaseName: z.string().optional() }), input, "ListTables");
      const all = (await store.listTableDescriptions(req.DatabaseName)).sort((a, b) =>
        tableKey(a) < tableKey(b) ? -1 : 1,
      );
      const after =
        req.NextToken === undefined ? undefined : decodePageToken(req.NextToken, "ValidationException");
      const { page, nextToken } = pageOf(all, tableKey, after, req.MaxResults ?? maxListResults);
      return { Tables: page.map(tableShape), ...(nextToken ? { NextToken: nextToken } : {}) };
    },

    async UpdateTable(input) {
      const req = parseInput(
        z.object({
          DatabaseName: z.string(),
          TableName: z.string(),
          RetentionProperties: retentionSchema.optional(),
          MagneticStoreWriteProperties: magneticWritesSchema.optional(),
          Schema: partitionSchema.optional(),
        }),
        input,
        "UpdateTable",
      );
      checkPartitionKey(req.Schema);
      const table = await store.updateTable({
        DatabaseName: req.DatabaseName,
        TableName: req.TableName,
        RetentionProperties: req.RetentionProperties,
        MagneticStoreWriteProperties: req.MagneticStoreWriteProperties,
      });
      return { Table: tableShape(table) };
    },

    async DeleteTable(input) {
      const req = parseInput(
        z.object({ DatabaseName: z.string(), TableName: z.string() }),
        input,
        "DeleteTable",
      );
      const { Arn } = await store.describeTable(req.DatabaseName, req.TableName);
      await store.deleteTable(req.DatabaseName, req.TableName);
      tags.forget(Arn);
      return {};
    },

    async WriteRecords(input) {
      const req = parseInput(writeRecordsSchema, input, "WriteRecords");
      // Records are checked one by one by the store, which rejects bad ones by index.
      const result = await store.writeRecords(req as unknown as WriteRecordsRequest, {
        maxRecords: API_MAX_RECORDS_PER_WRITE,
      });
      if (result.rejected.length > 0) {
        // As Timestream: the valid records are written, and the call fails naming the others.
        throw new HourglassError(
          "RejectedRecords",
          `${result.rejected.length} of ${req.Records.length} records were rejected: see RejectedRecords`,
          { context: { rejected: result.rejected } },
        );
      }
      return { RecordsIngested: result.RecordsIngested };
    },

    async ListTagsForResource(input) {
      const req = parseInput(z.object({ ResourceARN: z.string() }), input, "ListTagsForResource");
      return { Tags: tags.list(await resolveArn(backends, req.ResourceARN)) };
    },

    async TagResource(input) {
      const req = parseInput(
        z.object({ ResourceARN: z.string(), Tags: tagListSchema }),
        input,
        "TagResource",
      );
      tags.add(await resolveArn(backends, req.ResourceARN), req.Tags);
      return {};
    },

    async UntagResource(input) {
      const req = parseInput(
        z.object({ ResourceARN: z.string(), TagKeys: z.array(z.string()).max(200) }),
        input,
        "UntagResource",
      );
      tags.remove(await resolveArn(backends, req.ResourceARN), req.TagKeys);
      return {};
    },
  };
}

function tableKey(t: { DatabaseName: string; TableName: string }): string {
  // NUL sorts before every name character, so a database's tables stay together and in order.
  return `${t.DatabaseName}\u0000${t.TableName}`;
}

/**
 * What a client should call after discovery, in the form its SDK reads. The SDKs disagree:
 * botocore (boto3, the AWS CLI) uses the Address as a URL when it starts with "http" and puts
 * "https://" before it otherwise, so it gets this server's scheme, host and port; the SDK for
 * JavaScript v3 replaces only the hostname of the URL its endpoint provider built (scheme and port
 * stay), so it gets the bare host name. Other SDKs get the bare host name, as Timestream answers.
 */
function discoveredAddress(context: OperationContext): string {
  if (/\bbotocore\/|\baws-cli\//i.test(context.userAgent)) return `${context.scheme}://${context.host}`;
  return hostWithoutPort(context.host);
}

function hostWithoutPort(host: string): string {
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
}
