/**
 * The playground: sends a prompt through the proxy, exactly as a client would, with a model and a
 * proxy token the admin types (the console never knows token secrets), and streams the answer.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatMs } from "./_shared/format.ts";

/** Props: model suggestions. */
export interface PlaygroundProps {
  /** Models offered in the model field's list. */
  models: string[];
}

interface Outcome {
  status: number;
  requestId: string | null;
  firstByteMs: number | null;
  totalMs: number | null;
  tokens: number | null;
}

/**
 * The playground island.
 * @param props Model suggestions.
 */
export default function Playground(props: PlaygroundProps) {
  const model = useSignal(props.models[0] ?? "gemini-2.5-flash");
  const token = useSignal("");
  const prompt = useSignal("Explain in two sentences why the sky is blue.");
  const stream = useSignal(true);
  const output = useSignal("");
  const error = useSignal<string | null>(null);
  const outcome = useSignal<Outcome | null>(null);
  const running = useSignal(false);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
  }, []);

  async function send(event: Event) {
    event.preventDefault();
    if (running.value) return;
    running.value = true;
    output.value = "";
    error.value = null;
    const started = performance.now();
    const result: Outcome = {
      status: 0,
      requestId: null,
      firstByteMs: null,
      totalMs: null,
      tokens: null,
    };
    outcome.value = null;
    abort.current = new AbortController();
    try {
      const method = stream.value ? "streamGenerateContent?alt=sse" : "generateContent";
      const response = await fetch(
        `/v1beta/models/${encodeURIComponent(model.value.trim())}:${method}`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "x-goog-api-key": token.value.trim() },
          body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: prompt.value }] }] }),
          signal: abort.current.signal,
          credentials: "omit",
        },
      );
      result.status = response.status;
      result.requestId = response.headers.get("x-request-id");
      result.firstByteMs = performance.now() - started;
      if (!response.ok || !response.body) {
        const body = await response.json().catch(() => null);
        throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
      }
      if (stream.value) {
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          // Google separates events with CRLF pairs; a pair may straddle two reads.
          buffer = (buffer + value).replace(/\r\n/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) =>
              l.slice(5)
            ).join("");
            if (data) take(JSON.parse(data), result);
          }
        }
      } else {
        take(await response.json(), result);
      }
    } catch (e) {
      if (!(e instanceof DOMException && e.name === "AbortError")) {
        error.value = e instanceof Error ? e.message : String(e);
      }
    } finally {
      result.totalMs = performance.now() - started;
      outcome.value = { ...result };
      running.value = false;
      abort.current = null;
    }
  }
  function take(chunk: GenerateChunk, result: Outcome) {
    const text = chunk.candidates?.[0]?.content?.parts?.map((p) => p.text ?? "").join("") ?? "";
    output.value += text;
    if (chunk.usageMetadata?.totalTokenCount) result.tokens = chunk.usageMetadata.totalTokenCount;
  }

  const o = outcome.value;
  return (
    <div class="grid-2">
      <form class="card" onSubmit={send} aria-label="Prompt">
        <div class="row">
          <div class="field">
            <label for="pg-model">Model</label>
            <input
              id="pg-model"
              list="pg-models"
              required
              value={model}
              onInput={(e) => model.value = e.currentTarget.value}
            />
            <datalist id="pg-models">
              {props.models.map((m) => <option key={m} value={m} />)}
            </datalist>
          </div>
          <div class="field">
            <label for="pg-token">Proxy token</label>
            <input
              id="pg-token"
              type="password"
              required
              autocomplete="off"
              placeholder="gp-..."
              aria-describedby="pg-token-hint"
              value={token}
              onInput={(e) => token.value = e.currentTarget.value}
            />
          </div>
        </div>
        <p class="hint muted small" id="pg-token-hint">
          The request goes through the proxy like any client's, with this token; it is not stored.
        </p>
        <div class="field">
          <label for="pg-prompt">Prompt</label>
          <textarea
            id="pg-prompt"
            rows={6}
            required
            value={prompt}
            onInput={(e) => prompt.value = e.currentTarget.value}
          />
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={stream}
            onChange={(e) => stream.value = e.currentTarget.checked}
          />
          Stream the answer
        </label>
        <div class="actions" style={{ marginTop: "0.75rem" }}>
          <button type="submit" class="btn primary" disabled={running.value}>
            {running.value ? "Sending..." : "Send"}
          </button>
          {running.value && (
            <button
              type="button"
              class="btn"
              onClick={() => abort.current?.abort()}
            >
              Stop
            </button>
          )}
        </div>
      </form>
      <section class="card" aria-labelledby="pg-answer">
        <h2 id="pg-answer">Answer</h2>
        {error.value && <p class="notice bad" role="alert">{error.value}</p>}
        <div class="output" aria-live="polite" data-output>{output.value}</div>
        {o && (
          <p class="muted small" data-outcome>
            HTTP {o.status} · first byte {formatMs(o.firstByteMs)} · total {formatMs(o.totalMs)}
            {o.tokens !== null && ` · ${o.tokens} tokens`}
            {o.requestId && (
              <>
                {" · "}
                <a href={`/admin/logs/${o.requestId}`}>request log</a>
              </>
            )}
          </p>
        )}
      </section>
    </div>
  );
}

interface GenerateChunk {
  candidates?: { content?: { parts?: { text?: string }[] } }[];
  usageMetadata?: { totalTokenCount?: number };
}
