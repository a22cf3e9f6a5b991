/**
 * A small typed event emitter: `on(name, listener)` returns the function that removes the
 * listener. A listener that throws does not stop the others; its error is reported through the
 * `onListenerError` hook given to the emitter.
 */

export type Listener<TPayload> = (payload: TPayload) => void;

export class TypedEmitter<TEvents extends { [K in keyof TEvents]: unknown }> {
  readonly #listeners = new Map<keyof TEvents, Set<Listener<never>>>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof TEvents>(name: K, listener: Listener<TEvents[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof TEvents>(name: K, listener: Listener<TEvents[K]>): void {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof TEvents>(name: K, payload: TEvents[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<TEvents[K]>)(payload);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  listenerCount(name: keyof TEvents): number {
    return this.#listeners.get(name)?.size ?? 0;
  }
}
