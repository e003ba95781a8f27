/**
 * The resources the example DAGs expect, created up front (the export operator does not create
 * buckets): the seed's database and table (memory store 24 hours, magnetic store 1 day) and its
 * output bucket. `hourglass up --demo` does this itself; this module is for scripts and tests.
 */
export {
  DEMO_BUCKET as demoBucket,
  DEMO_DATABASE as demoDatabase,
  DEMO_TABLE as demoTable,
  setUpDemoResources as setUpDemo,
} from "../src/runtime/demo.js";
