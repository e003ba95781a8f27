/**
 * The AWS JSON 1.0 / 1.1 RPC protocols, server side: `POST /` with `X-Amz-Target: <Service>.<Op>`,
 * a JSON object in and out, timestamps as epoch seconds, blobs as base64, and errors as
 * `{ "__type": "<Exception>", "message": "…" }` with `x-amzn-ErrorType`.
 * (Timestream speaks JSON 1.0, Kinesis JSON 1.1; they differ only in the content type.)
 */
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { HourglassError } from "../../errors.js";
import type { AwsService } from "../errors.js";

export const JSON_10 = "application/x-amz-json-1.0";
export const JSON_11 = "application/x-amz-json-1.1";

/** What the dispatcher learnt about an AWS request; the app's error handler reads it to answer in AWS's shape. */
export interface AwsRequestInfo {
  service: AwsService;
  contentType: typeof JSON_10 | typeof JSON_11;
  operation: string;
  requestId: string;
}

/** Hono environment shared by the app and the AWS routes. */
export type AwsEnv = { Variables: { aws?: AwsRequestInfo } };

/** Host of the request as the client addressed it (for DescribeEndpoints). */
export interface OperationContext {
  /** The host and port the client called (Host, or :authority over HTTP/2). */
  host: string;
  /** `http` or `https`: how the client reached this server. */
  scheme: string;
  /** The client's User-Agent, which tells SDK families apart where they read a field differently. */
  userAgent: string;
  /** Aborts when the client goes away before the answer (a running query is then interrupted). */
  signal?: AbortSignal;
}

export type OperationInput = Record<string, unknown>;
export type Operation = (input: OperationInput, context: OperationContext) => Promise<object>;

/** An error of the protocol itself, named as AWS names it (SerializationException, UnknownOperationException). */
export function protocolError(awsCode: string, message: string): HourglassError {
  return new HourglassError("ValidationError", message, { context: { awsCode } });
}

export function newRequestInfo(service: AwsService, operation: string): AwsRequestInfo {
  return {
    service,
    contentType: service === "kinesis" ? JSON_11 : JSON_10,
    operation,
    requestId: randomUUID(),
  };
}

/** The request body as a JSON object; an empty body counts as `{}` (some clients send none for no input). */
export function parseJsonBody(text: string): OperationInput {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw protocolError("SerializationException", `the request body is not valid JSON: ${String(error)}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw protocolError("SerializationException", "the request body must be a JSON object");
  }
  return parsed as OperationInput;
}

/**
 * Checks an operation's input against its schema. A failure is a ValidationException naming every
 * bad member, as AWS's "N validation errors detected: …".
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: OperationInput,
  operation: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "input";
    return `${where}: ${issue.message}`;
  });
  throw new HourglassError(
    "ValidationError",
    `${operation}: ${problems.length} validation error${problems.length === 1 ? "" : "s"} detected: ${problems.join("; ")}`,
    { context: { awsCode: "ValidationException", operation } },
  );
}

/** JSON with the protocols' timestamp format (epoch seconds, fractions for milliseconds) and no bigints. */
export function toAwsJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, converted) {
    const raw = this[key];
    if (raw instanceof Date) return raw.getTime() / 1000;
    if (typeof converted === "bigint") return Number(converted);
    return converted;
  });
}

/**
 * An operation's answer already written as JSON text: the Query operation writes its pages straight
 * from the result chunks (src/api/aws/query-json.ts), so the replacer pass of toAwsJson over every
 * row, the largest share of a page's serialisation, is skipped.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export function awsResponse(
  info: AwsRequestInfo,
  status: number,
  body: unknown,
  extraHeaders = {},
): Response {
  return new Response(body instanceof JsonText ? body.text : toAwsJson(body), {
    status,
    headers: { "content-type": info.contentType, "x-amzn-RequestId": info.requestId, ...extraHeaders },
  });
}

/** Decodes a base64 blob member; anything that is not base64 is a SerializationException, as AWS answers. */
export function decodeBlob(value: unknown, member: string): Uint8Array {
  if (typeof value !== "string" || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw protocolError("SerializationException", `${member} must be a base64 string`);
  }
  return Buffer.from(value, "base64");
}

export function encodeBlob(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}
