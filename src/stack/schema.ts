/**
 * The stack file's shape, checked by zod. Names follow the services (Timestream, Kinesis, S3, IAM)
 * but in the stack file's own lower-camel style; `toDesired` (resources.ts) maps them onto the
 * calls each service takes.
 */
import { z } from "zod";

const name = z.string().min(1, "expected a non-empty name");
const hours = (max: number) =>
  z.number({ error: "expected a number of hours" }).int("expected a whole number of hours").min(1).max(max);

/** `kind/name` of another resource in the same file (CDK's node.add_dependency). */
const dependsOn = z.array(z.string()).optional();

export const databaseSchema = z.strictObject({ name, dependsOn });

export const tableSchema = z.strictObject({
  database: name,
  name,
  retention: z
    .strictObject({
      memoryHours: hours(8766).optional(),
      magneticDays: z
        .number({ error: "expected a number of days" })
        .int("expected a whole number of days")
        .min(1)
        .max(73000)
        .optional(),
    })
    .optional(),
  magneticWrites: z.boolean({ error: "expected true or false" }).optional(),
  dependsOn,
});

// Bucket names are checked by the lake when they are created, not here: the lake is the one
// authority on what it accepts, and a refused name is a failure apply reports per resource.
export const bucketSchema = z.strictObject({ name, dependsOn });

export const streamSchema = z.strictObject({
  name,
  shards: z.number({ error: "expected a number of shards" }).int().min(1).max(1024),
  retentionHours: hours(8760).optional(),
  dependsOn,
});

export const connectorSchema = z.strictObject({
  name,
  stream: name,
  database: name,
  table: name,
  mapping: z.enum(["single", "flat", "auto"]).optional(),
  from: z.string().optional(),
  dependsOn,
});

/**
 * An IAM policy document, checked for its structure only (Version, Statement, Effect, Action or
 * NotAction, Resource or NotResource). What the actions and ARNs mean is the policy engine's
 * business: `PolicyDocumentValidator` (policy-validator.ts) is where it plugs in.
 */
const stringOrList = z.union([z.string(), z.array(z.string()).min(1)], {
  error: "expected a string or a non-empty list of strings",
});
export const statementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"], { error: 'expected "Allow" or "Deny"' }),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    Principal: z.unknown().optional(),
  })
  .strict()
  .refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), {
    message: "a statement needs exactly one of Action and NotAction",
  })
  .refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), {
    message: "a statement needs exactly one of Resource and NotResource",
  });

export const policyDocumentSchema = z.strictObject({
  Version: z.enum(["2012-10-17", "2008-10-17"], { error: 'expected "2012-10-17"' }),
  Id: z.string().optional(),
  // IAM takes one statement or a list: one is read as a list of one, so errors name the field.
  Statement: z.preprocess(
    (value) => (value !== null && typeof value === "object" && !Array.isArray(value) ? [value] : value),
    z.array(statementSchema, { error: "expected a statement or a list of statements" }).min(1),
  ),
});

export const policySchema = z.strictObject({
  name,
  description: z.string().optional(),
  document: policyDocumentSchema,
  dependsOn,
});

export const roleSchema = z.strictObject({
  name,
  description: z.string().optional(),
  policies: z.array(name).default([]),
  dependsOn,
});

export const principalSchema = z.strictObject({
  name,
  /** Who holds the keys: a worker (task processes), the load generator, or a person. */
  kind: z.enum(["worker", "generator", "person"], { error: "expected worker, generator or person" }),
  role: name.optional(),
  policies: z.array(name).optional(),
  /** How many access keys the stack keeps for it (0 for a person who signs in another way). */
  keys: z.number().int().min(0).max(2).default(1),
  dependsOn,
});

/** MWAA's execution role: the DAG's tasks run with this role's permissions. */
export const dagSchema = z.strictObject({ dag: name, role: name, dependsOn });

export const stackFileSchema = z.strictObject({
  stack: z
    .string({ error: "expected the stack's name" })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "expected letters, digits, '.', '_' or '-'"),
  account: z
    .string({ error: 'expected a 12-digit account id in quotes, e.g. "704533066374"' })
    .regex(/^\d{12}$/, "expected a 12-digit account id")
    .default("000000000000"),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "expected a region such as eu-west-1")
    .default("us-east-1"),
  resources: z
    .strictObject({
      databases: z.array(databaseSchema).default([]),
      tables: z.array(tableSchema).default([]),
      buckets: z.array(bucketSchema).default([]),
      streams: z.array(streamSchema).default([]),
      connectors: z.array(connectorSchema).default([]),
      policies: z.array(policySchema).default([]),
      roles: z.array(roleSchema).default([]),
      principals: z.array(principalSchema).default([]),
      dags: z.array(dagSchema).default([]),
    })
    .default({
      databases: [],
      tables: [],
      buckets: [],
      streams: [],
      connectors: [],
      policies: [],
      roles: [],
      principals: [],
      dags: [],
    }),
});

export type StackFile = z.infer<typeof stackFileSchema>;
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
export type PolicyStatement = z.infer<typeof statementSchema>;
