/**
 * The resources the example DAGs expect, created up front (the export operator does not create
 * buckets): the seed's database and table (memory store 24 hours, magnetic store 1 day) and its
 * output bucket. Safe to run again: what exists is left as it is.
 */
import { isHourglassError } from "../src/errors.js";
import type { Lake } from "../src/lake/index.js";
import type { StoreService } from "../src/store/service.js";

export const demoDatabase = "airflow-db";
export const demoTable = "airflow-table";
export const demoBucket = "demo-airflow-ts-output";

/** Creates what is missing; returns what it created, e.g. ["database airflow-db", "bucket …"]. */
export async function setUpDemo(store: StoreService, lake: Lake): Promise<string[]> {
  const created: string[] = [];
  const create = async (what: string, make: () => Promise<unknown>) => {
    try {
      await make();
      created.push(what);
    } catch (error) {
      if (!isHourglassError(error, "Conflict")) throw error;
    }
  };
  await create(`database ${demoDatabase}`, () => store.createDatabase(demoDatabase));
  await create(`table ${demoDatabase}.${demoTable}`, () =>
    store.createTable({
      DatabaseName: demoDatabase,
      TableName: demoTable,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    }),
  );
  await create(`bucket ${demoBucket}`, () => lake.createBucket(demoBucket));
  return created;
}
