/**
 * ARNs in AWS's shapes for Hourglass's resources, so that policies written for AWS (the seed's
 * two) name the same things here:
 *
 *   arn:aws:timestream:REGION:ACCOUNT:database/D
 *   arn:aws:timestream:REGION:ACCOUNT:database/D/table/T
 *   arn:aws:kinesis:REGION:ACCOUNT:stream/S
 *   arn:aws:s3:::BUCKET            arn:aws:s3:::BUCKET/KEY   (S3 ARNs have no region or account)
 *
 * ARN format: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 */
import { wildcardMatcher } from "./wildcard.js";

/** The account and region Hourglass's ARNs carry (config: accountId, region). */
export interface ArnScope {
  readonly account: string;
  readonly region: string;
}

/** Hourglass's defaults: AWS's documentation account of zeros, and the region its S3 reports. */
export const DEFAULT_ARN_SCOPE: ArnScope = Object.freeze({ account: "000000000000", region: "us-east-1" });

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the fifth colon (it may itself hold colons and slashes). */
  resource: string;
}

export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const;

/** Splits an ARN into its six parts, or says what is wrong with it. */
export function parseArn(text: string): { arn: Arn } | { problem: string } {
  if (!text.startsWith("arn:")) return { problem: `'${text}' is not an ARN: it must start with "arn:"` };
  const parts = text.split(":");
  if (parts.length < 6)
    return {
      problem: `'${text}' has ${parts.length} colon-separated parts; an ARN has six: arn:partition:service:region:account:resource`,
    };
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  const resource = parts.slice(5).join(":");
  if (partition === "") return { problem: `'${text}' has no partition (arn:aws:…)` };
  if (service === "") return { problem: `'${text}' has no service (arn:aws:s3:…)` };
  if (resource === "") return { problem: `'${text}' names no resource after the account part` };
  return { arn: { partition, service, region, account, resource } };
}

export const formatArn = (arn: Arn): string =>
  `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resource}`;

/** The ARNs of Hourglass's resources, in one scope (account and region). */
export function resourceArns(scope: ArnScope = DEFAULT_ARN_SCOPE) {
  const prefix = (service: string) => `arn:aws:${service}:${scope.region}:${scope.account}:`;
  return {
    database: (database: string) => `${prefix("timestream")}database/${database}`,
    table: (database: string, table: string) => `${prefix("timestream")}database/${database}/table/${table}`,
    stream: (stream: string) => `${prefix("kinesis")}stream/${stream}`,
    bucket: (bucket: string) => `arn:aws:s3:::${bucket}`,
    object: (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`,
  };
}

export type ResourceArns = ReturnType<typeof resourceArns>;

/**
 * A Resource pattern of a policy, compiled. As IAM does for ARN matching, each of the six parts
 * is matched on its own (a `*` in the region part does not reach into the account part), and the
 * resource part may hold `*` and `?` that span `/`. "*" alone matches every resource. The caller
 * splits the requested ARN once (splitArn) and hands the parts to every pattern.
 */
export type ArnMatcher = (value: string, parts: readonly string[] | null) => boolean;

export function arnPatternMatcher(pattern: string): ArnMatcher {
  if (pattern === "*") return () => true;
  const parsed = parseArn(pattern);
  // A malformed pattern matches only itself (validation reports it; evaluation must not throw).
  if ("problem" in parsed || !/[*?]/.test(pattern)) return (value) => value === pattern;
  const { arn } = parsed;
  const head = [arn.partition, arn.service, arn.region, arn.account].map((part) =>
    wildcardMatcher(part, false),
  );
  const resource = wildcardMatcher(arn.resource, false);
  return (_value, parts) => {
    if (parts === null) return false;
    for (let i = 0; i < 4; i++) if (!head[i]!(parts[i]!)) return false;
    return resource(parts[4]!);
  };
}

/** The text of a pattern before its first wildcard: every value it matches starts with it. */
export const literalPrefix = (pattern: string): string => {
  const star = pattern.search(/[*?]/);
  return star < 0 ? pattern : pattern.slice(0, star);
};

/** [partition, service, region, account, resource] of an ARN, or null; cheaper than parseArn. */
export function splitArn(value: string): string[] | null {
  if (!value.startsWith("arn:")) return null;
  const out: string[] = [];
  let start = 4;
  for (let i = 0; i < 4; i++) {
    const colon = value.indexOf(":", start);
    if (colon < 0) return null;
    out.push(value.slice(start, colon));
    start = colon + 1;
  }
  out.push(value.slice(start));
  return out;
}
