/**
 * The runtime: everything `hourglass up` hosts in one process (startHourglass), and the workflow
 * calls over HTTP for clients of a running server (RemoteWorkflows).
 */

export { taskEnvironment, writeCliShim } from "./cli-shim.js";
export { DEMO_BUCKET, DEMO_DAG, type Demo, deliverLateLoops, startDemo } from "./demo.js";
export { type LocalWorkflows, openLocalWorkflows } from "./local-workflows.js";
export { RemoteWorkflows } from "./remote-workflows.js";
export { type HourglassRuntime, type StartOptions, startHourglass } from "./start.js";
export { createLocalTaskServices, createRemoteTaskServices, exportsRoute } from "./task-services.js";
