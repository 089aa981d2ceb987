/**
 * A client leaving a stream while the fake upstream is held, without racing the proxy: upstream
 * may go on only up to its last chunk, where it waits, so it cannot finish the stream before the
 * proxy has passed the client's leaving on. A proxy that keeps reading after its client left
 * is caught there, not by luck.
 * @module
 */
import type { FakeUpstream, RecordedRequest } from "./fake_upstream/mod.ts";

/** Options of {@linkcode leaveHeldStream}. */
export interface LeaveOptions {
  /** The hold the stream is waiting at (its `reached` already awaited). */
  hold: { release(): void };
  /** Index of the stream's last chunk (the fake's `streamChunks` - 1). */
  lastChunk: number;
  /** Leaves: aborts the request, cancels the reader. */
  leave: () => Promise<void>;
  /** Longest wait for the proxy to pass the leaving on, ms (default 30 s; a healthy one takes ms). */
  timeoutMs?: number;
}

/**
 * Leaves the fake's latest stream and returns its upstream record once upstream saw it end.
 * @param fake The fake upstream serving the stream.
 * @param options The hold, the last chunk's index and how to leave.
 * @returns The upstream record; `cancelled` says whether the proxy passed the leaving on.
 */
export async function leaveHeldStream(
  fake: FakeUpstream,
  options: LeaveOptions,
): Promise<RecordedRequest> {
  const record = fake.requests.at(-1)!;
  const last = fake.holdStreamChunk(options.lastChunk);
  await options.leave();
  // Upstream goes on writing: the proxy notices the client has gone when it passes a chunk on.
  options.hold.release();
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  // Reaching the last chunk is no failure yet (a busy proxy may notice late); staying there is.
  const stuck = last.reached.then(() =>
    new Promise<"stuck">((resolve) => {
      if (!finished) timer = setTimeout(() => resolve("stuck"), timeoutMs);
    })
  );
  try {
    const ended = await Promise.race([record.done.then(() => "ended" as const), stuck]);
    if (ended === "stuck") {
      throw new Error(
        `upstream was read to its last chunk and not cancelled within ${timeoutMs} ms`,
      );
    }
    return record;
  } finally {
    finished = true;
    clearTimeout(timer);
    last.release();
  }
}
