/**
 * A counter of everything that changes workflow state, for `GET /api/v1/changes` (pages poll it
 * and fetch again only when it moves) and for the grid's cache (an answer is reused until it moves).
 * It counts the scheduler's and workers' events, and every change made through the REST API (a
 * clear, a pause, a backfill cancelled: these emit no event of their own).
 */
import { randomUUID } from "node:crypto";
import type { WorkflowApi, WorkflowEvents } from "../workflows/scheduler/index.js";

const watchedEvents = [
  "run:created",
  "run:started",
  "run:finished",
  "task:queued",
  "task:started",
  "task:succeeded",
  "task:failed",
  "task:retry",
  "backfill:progress",
  "export:written",
  "dags:loaded",
] as const;

/** The WorkflowApi calls that change state. */
const changingCalls = new Set<string>([
  "setPaused",
  "trigger",
  "markRun",
  "clear",
  "createBackfill",
  "pauseBackfill",
  "resumeBackfill",
  "cancelBackfill",
]);

export class ChangeCounter {
  /** Tells a page that the server restarted (the count started again). */
  readonly boot = randomUUID().slice(0, 8);
  #count = 0;

  bump(): void {
    this.#count += 1;
  }

  get version(): string {
    return `${this.boot}-${this.#count}`;
  }

  /** Counts the scheduler's and the workers' events. */
  watch(events: WorkflowEvents): this {
    for (const event of watchedEvents) events.on(event, () => this.bump());
    return this;
  }

  /** The same API, counting each change it makes (after it is made, also when it fails half-way). */
  counting(api: WorkflowApi): WorkflowApi {
    return new Proxy(api, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== "function") return value;
        const call = value as (...args: unknown[]) => unknown;
        if (typeof name !== "string" || !changingCalls.has(name)) return call.bind(target);
        return async (...args: unknown[]) => {
          try {
            return await call.apply(target, args);
          } finally {
            this.bump();
          }
        };
      },
    });
  }
}
