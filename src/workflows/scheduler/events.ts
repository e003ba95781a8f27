/**
 * Typed lifecycle events of the scheduler and the worker pool. Tests, the CLI's progress bar and
 * logs wait on these instead of sleeping or polling (graphile-worker's WorkerEventMap is the model).
 */
import { HourglassError } from "../../errors.js";
import type { BackfillProgress, DagRun, RunState, TaskInstance } from "../metadata/index.js";

export interface TaskEvent {
  dagId: string;
  runId: string;
  dagRunId: number;
  taskId: string;
  tryNumber: number;
}

export interface WorkflowEventMap {
  "run:created": { run: DagRun };
  "run:started": { run: DagRun };
  "run:finished": { run: DagRun; state: RunState };
  "task:queued": { dagId: string; dagRunId: number; taskIds: string[] };
  "task:started": TaskEvent & { workerId: string; pid: number | null };
  "task:succeeded": TaskEvent & { durationMs: number | null };
  "task:failed": TaskEvent & { error: string; final: boolean };
  /** The try failed and the task instance waits for its next try (up_for_retry). */
  "task:retry": TaskEvent & { error: string; nextRetryAt: number | null };
  "backfill:progress": { progress: BackfillProgress; dagId: string };
  "export:written": TaskEvent & { bucket: string; key: string; rows: number; bytes: number };
  /** A DAG folder was (re)loaded. */
  "dags:loaded": { dagIds: string[]; importErrors: number };
  /** Something went wrong inside a loop; the loop goes on. */
  error: { where: string; error: unknown };
}

export type WorkflowEventName = keyof WorkflowEventMap;
type Listener<E extends WorkflowEventName> = (payload: WorkflowEventMap[E]) => void;

/** A small typed emitter: a listener that throws becomes a process warning and breaks nothing. */
export class WorkflowEvents {
  readonly #listeners = new Map<WorkflowEventName, Set<(payload: never) => void>>();

  on<E extends WorkflowEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends WorkflowEventName>(event: E, payload: WorkflowEventMap[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        process.emitWarning(`a workflow "${event}" listener threw: ${String(error)}`);
      }
    }
  }

  /**
   * Resolves with the first `event` whose payload satisfies `matches`, emitted after this call;
   * rejects with a Timeout error after `timeoutMs` (a deadline, never a sleep).
   */
  waitFor<E extends WorkflowEventName>(
    event: E,
    matches: (payload: WorkflowEventMap[E]) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<WorkflowEventMap[E]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new HourglassError("Timeout", `no "${event}" event matched within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(event, (payload) => {
        if (!matches(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }
}

/** Where a step reports what happened: the events themselves, or a DeferredEvents. */
export interface EventSink {
  emit<E extends WorkflowEventName>(event: E, payload: WorkflowEventMap[E]): void;
}

/**
 * Events held back until the transaction that made them true has committed: a listener (a test,
 * the worker pool, a progress bar) that reads the metadata DB on an event must find the change.
 * If the transaction fails, the events are dropped with it.
 */
export class DeferredEvents implements EventSink {
  readonly #target: WorkflowEvents;
  #pending: Array<() => void> = [];

  constructor(target: WorkflowEvents) {
    this.#target = target;
  }

  emit<E extends WorkflowEventName>(event: E, payload: WorkflowEventMap[E]): void {
    this.#pending.push(() => this.#target.emit(event, payload));
  }

  /** Emits the held events, in order. */
  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const emit of pending) emit();
  }

  discard(): void {
    this.#pending = [];
  }
}

/** The task-event identity of a task instance. */
export function taskEventOf(ti: TaskInstance, runId: string): TaskEvent {
  return { dagId: ti.dagId, runId, dagRunId: ti.dagRunId, taskId: ti.taskId, tryNumber: ti.tryNumber };
}
