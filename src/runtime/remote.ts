/**
 * The runtime's light door, for CLI commands that talk to a running server: the workflow calls over
 * HTTP and the region task processes sign with. src/runtime/index.ts loads the whole server
 * (startHourglass), which a CLI command must not load just to parse its flags.
 */
export { TASK_AWS_REGION } from "./cli-shim.js";
export { RemoteWorkflows } from "./remote-workflows.js";
