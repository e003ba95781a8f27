/** The services the AWS-compatible endpoints are a thin layer over. */
import type { KeyLookup } from "../../access/index.js";
import type { StoreService } from "../../store/index.js";
import type { StreamService } from "../../stream/index.js";
import type { ScheduledQueryService } from "../../workflows/scheduled-queries/index.js";
import type { TagStore } from "./tags.js";

/** The store; `cancelQuery` is there when the store is local (the HTTP client has no such call). */
export type TimestreamBackend = StoreService & { cancelQuery?(queryIdOrToken: string): void };

export interface AwsBackends {
  store: TimestreamBackend;
  /** Without a stream service, Kinesis calls are refused as unknown operations. */
  stream?: StreamService;
  tags: TagStore;
  /** Timestream scheduled queries; without it their operations are unknown. */
  scheduledQueries?: ScheduledQueryService;
  /**
   * The host that DescribeEndpoints hands out. By default the host the client reached this server
   * by, without the port: SDKs keep the port of the endpoint they were configured with and
   * replace only the host name (the AWS SDK for JavaScript v3 fails on an address with a port).
   */
  describeEndpointsAddress?: string;
  /** The keys signatures are checked against; absent: any credentials are accepted (`--no-auth`). */
  keys?: KeyLookup | null;
}
