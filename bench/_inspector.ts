/**
 * A minimal client of V8's inspector protocol, for a server started with
 * `--inspect=127.0.0.1:<port>`: the bench's allocation sampling and memory readings use it.
 * @module
 */

/** An open inspector session. */
export interface InspectorSession {
  /** Sends one protocol command and resolves to its result. */
  call<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Evaluates an expression in the server (awaiting a promise) and resolves to its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Closes the session. */
  close(): void;
}

/**
 * Opens a session on the server's first inspector target.
 * @param inspectPort The inspector's port.
 */
export async function openInspector(inspectPort: number): Promise<InspectorSession> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json() as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const waiting = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  };
  let next = 0;
  const call = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve) => {
      const id = ++next;
      waiting.set(id, (result) => {
        waiting.delete(id);
        resolve(result as T);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    call,
    async evaluate<T>(expression: string): Promise<T> {
      const { result, exceptionDetails } = await call<{
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      }>("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (exceptionDetails) {
        throw new Error(
          `inspector: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`,
        );
      }
      return result.value as T;
    },
    close: () => socket.close(),
  };
}
