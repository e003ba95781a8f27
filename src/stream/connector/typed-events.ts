/**
 * A small typed event emitter. Unlike Node's EventEmitter, an `error` event without listeners is
 * not thrown, and a listener that throws cannot break the connector: it becomes a warning.
 */
export class TypedEvents<EventMap extends object> {
  private readonly listeners = new Map<keyof EventMap, Set<(payload: never) => void>>();

  on<E extends keyof EventMap>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends keyof EventMap>(event: E, payload: EventMap[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: EventMap[E]) => void)(payload);
      } catch (error) {
        process.emitWarning(`a connector "${String(event)}" listener threw: ${String(error)}`);
      }
    }
  }
}
