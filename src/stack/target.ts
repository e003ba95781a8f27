/**
 * What the stack needs from the rest of Hourglass, as small interfaces: the CLI builds them from
 * the same clients its other commands use (the server's REST API when one runs, the state folder
 * otherwise), so src/stack imports no other part.
 */

import type { Properties } from "./resources.js";
import type { PolicyDocument } from "./schema.js";

/** One kind of resource that lives in a service (store, lake, streams, connectors). */
export interface ResourceDriver {
  /** Its properties now, in the stack file's terms; null when it does not exist. */
  read(name: string): Promise<Properties | null>;
  create(name: string, properties: Properties): Promise<void>;
  /** Changes it in place; absent when the kind cannot change (the plan then says what to do). */
  update?(name: string, properties: Properties): Promise<void>;
  /** Whether a change may delete and create it again (a connector: its definition only). */
  replaceable?: boolean;
  /** Deletes it; `force` empties what holds data first (a bucket's objects). */
  delete(name: string, options: { force: boolean }): Promise<void>;
  /** Whether deleting it would lose data (a table's rows, a bucket's objects). */
  holdsData?(name: string): Promise<boolean>;
}

export interface StackTarget {
  database: ResourceDriver;
  table: ResourceDriver;
  bucket: ResourceDriver;
  stream: ResourceDriver;
  connector: ResourceDriver;
}

export interface IssuedKey {
  accessKeyId: string;
  secretAccessKey: string;
  createdAt: string;
}

/**
 * Issues and revokes the SigV4 access keys of principals. The seam for `hourglass keys`
 * (src/access/keys.ts: createAccessKey / revokeAccessKey): until it is wired in, the CLI passes
 * null and principals are recorded with no keys (apply says so).
 */
export interface KeyIssuer {
  issue(principal: string): Promise<IssuedKey>;
  revoke(accessKeyId: string): Promise<void>;
}

/**
 * Checks what the structural schema cannot: unknown actions, malformed ARNs, statements that can
 * never match. The seam for the policy engine's validator (src/access); each string is one problem,
 * reported with the policy's path and line.
 */
export type PolicyDocumentValidator = (document: PolicyDocument) => string[];
