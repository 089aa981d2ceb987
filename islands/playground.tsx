/**
 * The playground: talks to a model through the proxy, exactly as a client would, with a model
 * and a proxy token the admin types (the console never knows token secrets): Gemini's API or the
 * OpenAI-compatible one, a system prompt, temperature and output limit, several turns, streamed.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatMs } from "./_shared/format.ts";
import { buildRequest, readPiece, takeEvents, type Turn } from "./_shared/playground_client.ts";

/** Props: model suggestions. */
export interface PlaygroundProps {
  /** Models offered in the model field's list (Google's list of generating models). */
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
  const model = useSignal(props.models.find((m) => m.includes("flash")) ?? props.models[0] ?? "");
  const token = useSignal("");
  const mode = useSignal<"gemini" | "openai">("gemini");
  const system = useSignal("");
  const temperature = useSignal("");
  const maxOutput = useSignal("");
  const prompt = useSignal("Explain in two sentences why the sky is blue.");
  const stream = useSignal(true);
  const turns = useSignal<Turn[]>([]);
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
    if (running.value || !prompt.value.trim()) return;
    running.value = true;
    output.value = "";
    error.value = null;
    const asked: Turn[] = [...turns.value, { role: "user", text: prompt.value }];
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
      const { url, init } = buildRequest({
        mode: mode.value,
        model: model.value.trim(),
        token: token.value.trim(),
        system: system.value,
        temperature: temperature.value,
        maxOutputTokens: maxOutput.value,
        stream: stream.value,
        turns: asked,
      });
      const response = await fetch(url, {
        ...init,
        signal: abort.current.signal,
        credentials: "omit",
      });
      result.status = response.status;
      result.requestId = response.headers.get("x-request-id");
      result.firstByteMs = performance.now() - started;
      if (!response.ok || !response.body) {
        const body = await response.json().catch(() => null);
        const message = Array.isArray(body) ? body[0]?.error?.message : body?.error?.message;
        throw new Error(message ?? `HTTP ${response.status}`);
      }
      if (stream.value) await readStream(response.body, result);
      else take(await response.json(), result);
      turns.value = [...asked, { role: "model", text: output.value }];
      output.value = "";
      prompt.value = "";
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
  async function readStream(body: ReadableStream<Uint8Array<ArrayBuffer>>, result: Outcome) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const { events, rest } = takeEvents(buffer + value);
      buffer = rest;
      for (const data of events) take(JSON.parse(data), result);
    }
  }
  function take(data: unknown, result: Outcome) {
    const piece = readPiece(mode.value, data);
    output.value += piece.text;
    if (piece.tokens) result.tokens = piece.tokens;
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
          <div class="field">
            <label for="pg-mode">API</label>
            <select
              id="pg-mode"
              value={mode.value}
              onChange={(e) => mode.value = e.currentTarget.value as "gemini" | "openai"}
            >
              <option value="gemini">Gemini (generateContent)</option>
              <option value="openai">OpenAI-compatible (chat/completions)</option>
            </select>
          </div>
        </div>
        <p class="hint muted small" id="pg-token-hint">
          The request goes through the proxy like any client's, with this token; it is not stored.
        </p>
        <details>
          <summary>System prompt and parameters</summary>
          <div class="field">
            <label for="pg-system">System prompt</label>
            <textarea
              id="pg-system"
              rows={2}
              value={system}
              onInput={(e) => system.value = e.currentTarget.value}
            />
          </div>
          <div class="row">
            <div class="field">
              <label for="pg-temperature">Temperature</label>
              <input
                id="pg-temperature"
                type="number"
                min="0"
                max="2"
                step="0.1"
                placeholder="model default"
                value={temperature}
                onInput={(e) => temperature.value = e.currentTarget.value}
              />
            </div>
            <div class="field">
              <label for="pg-max">Max output tokens</label>
              <input
                id="pg-max"
                type="number"
                min="1"
                step="1"
                placeholder="model default"
                value={maxOutput}
                onInput={(e) => maxOutput.value = e.currentTarget.value}
              />
            </div>
          </div>
        </details>
        <div class="field">
          <label for="pg-prompt">{turns.value.length ? "Your next message" : "Prompt"}</label>
          <textarea
            id="pg-prompt"
            rows={5}
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
          {turns.value.length > 0 && !running.value && (
            <button
              type="button"
              class="btn"
              onClick={() => {
                turns.value = [];
                outcome.value = null;
              }}
            >
              New conversation
            </button>
          )}
        </div>
      </form>
      <section class="card" aria-labelledby="pg-answer">
        <h2 id="pg-answer">Conversation</h2>
        {error.value && <p class="notice bad" role="alert">{error.value}</p>}
        <div class="chat" aria-live="polite">
          {turns.value.map((t, i) => (
            <div
              key={i}
              class={`turn ${t.role}`}
              data-turn={t.role}
              data-output={!running.value && i === turns.value.length - 1 && t.role === "model"
                ? ""
                : undefined}
            >
              {t.text}
            </div>
          ))}
          {running.value && <div class="turn model" data-output>{output.value}</div>}
        </div>
        {turns.value.length === 0 && !running.value && (
          <p class="muted small">
            The answer appears here; send again to continue the conversation.
          </p>
        )}
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
