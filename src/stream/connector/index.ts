/**
 * The connector part's public surface: moves a stream's records into a store table (the Flink
 * Timestream connector of the seed), with checkpoints, retries, a dead-letter stream and metrics.
 * Also the read positions and the stream client that the CLI and the REST API share.
 */
export {
  type ConnectorAdmin,
  type ConnectorDescription,
  type ConnectorShardDescription,
  OfflineConnectors,
} from "./admin.js";
export {
  type Checkpoint,
  checkpointPath,
  listCheckpoints,
  readCheckpoint,
  validateConnectorName,
} from "./checkpoint.js";
export { StreamConnector, startConnector } from "./connector.js";
export type { DeadLetterPayload } from "./dead-letter.js";
export {
  type ConnectorDefinition,
  type ConnectorDefinitionInput,
  definitionInputSchema,
  definitionsPath,
  parseStartPosition,
} from "./definitions.js";
export { DimensionPool } from "./dimension-pool.js";
export {
  ConnectorManager,
  type ConnectorManagerEventMap,
  type ConnectorManagerOptions,
  openConnectorManager,
} from "./manager.js";
export { isMapFailure, type MapFailure, type MapResult, mapPayload } from "./mapping.js";
export { defaultBatchSize, defaultMaxDelayMs } from "./options.js";
export {
  iteratorFor,
  maxReadWaitMs,
  parseReadPosition,
  type ReadPosition,
  readShardPage,
} from "./read-position.js";
export { localStreamClient, type StreamClient } from "./stream-client.js";
export type {
  ConnectorCounts,
  ConnectorEventMap,
  ConnectorMapping,
  ConnectorOptions,
  ConnectorStartPosition,
  ConnectorState,
  ConnectorStatus,
  ConnectorStore,
  ConnectorStreams,
  RetryOptions,
  ShardStatus,
} from "./types.js";
