/**
 * The few Cloudflare Workers runtime types the adapter uses, declared here so the project
 * type-checks under Deno without `@cloudflare/workers-types` (whose globals clash with Deno's).
 * @module
 */

/** The third argument of a Worker's `fetch`: background work and error pass-through. */
export interface ExecutionContext {
  /** Keeps the isolate alive until `promise` settles (up to the platform's limit). */
  waitUntil(promise: Promise<unknown>): void;
}

/** Bindings: `[vars]` and secrets are strings; other bindings (KV, R2...) are objects. */
export type WorkerBindings = Record<string, unknown>;

/** The part of `request.cf` the adapter reads. */
export interface IncomingCf {
  /** IATA code of the Cloudflare data centre serving the request, e.g. `HKG`. */
  colo?: string;
}

/** A Workers WebSocket: a standard one plus `accept()`. */
export interface WorkersWebSocket extends EventTarget {
  /** Starts delivering events for a socket this Worker terminates. */
  accept(): void;
  /** Sends a frame. */
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  /** Closes with a code and reason. */
  close(code?: number, reason?: string): void;
  /** `WebSocket.OPEN` and friends. */
  readonly readyState: number;
}

/** `new WebSocketPair()`: index 0 goes to the client, index 1 stays in the Worker. */
export interface WebSocketPairLike {
  0: WorkersWebSocket;
  1: WorkersWebSocket;
}

/** The Workers `Response` init, which may carry the client end of a WebSocket pair. */
export interface WorkersResponseInit extends ResponseInit {
  /** The socket handed to the client with a 101 answer. */
  webSocket?: WorkersWebSocket;
}
