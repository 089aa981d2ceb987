/**
 * The playground's requests, as a client of the proxy would send them: Gemini's native
 * `generateContent` (or its SSE stream) or the OpenAI-compatible `chat/completions`, with a system
 * prompt, parameters and the conversation so far; and the readers of their answers.
 * @module
 */

/** One turn of the conversation. */
export interface Turn {
  role: "user" | "model";
  text: string;
}

/** What to send. */
export interface PlaygroundRequest {
  mode: "gemini" | "openai";
  model: string;
  token: string;
  system: string;
  /** Empty: the model's default. */
  temperature: string;
  /** Empty: the model's default. */
  maxOutputTokens: string;
  stream: boolean;
  /** The conversation, ending with the user's new message. */
  turns: Turn[];
}

/**
 * The URL and init of the request.
 * @param r What to send.
 */
export function buildRequest(r: PlaygroundRequest): { url: string; init: RequestInit } {
  const temperature = r.temperature.trim() === "" ? undefined : Number(r.temperature);
  const maxTokens = r.maxOutputTokens.trim() === "" ? undefined : Number(r.maxOutputTokens);
  if (r.mode === "openai") {
    const messages = [
      ...(r.system.trim() ? [{ role: "system", content: r.system }] : []),
      ...r.turns.map((t) => ({ role: t.role === "model" ? "assistant" : "user", content: t.text })),
    ];
    const body = {
      model: r.model,
      messages,
      stream: r.stream,
      ...(r.stream ? { stream_options: { include_usage: true } } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
    };
    return {
      url: "/v1beta/openai/chat/completions",
      init: {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${r.token}` },
        body: JSON.stringify(body),
      },
    };
  }
  const generationConfig = {
    ...(temperature !== undefined ? { temperature } : {}),
    ...(maxTokens !== undefined ? { maxOutputTokens: maxTokens } : {}),
  };
  const body = {
    ...(r.system.trim() ? { systemInstruction: { parts: [{ text: r.system }] } } : {}),
    contents: r.turns.map((t) => ({ role: t.role, parts: [{ text: t.text }] })),
    ...(Object.keys(generationConfig).length ? { generationConfig } : {}),
  };
  const method = r.stream ? "streamGenerateContent?alt=sse" : "generateContent";
  return {
    url: `/v1beta/models/${encodeURIComponent(r.model)}:${method}`,
    init: {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": r.token },
      body: JSON.stringify(body),
    },
  };
}

/** Text and token count carried by one answer or stream event. */
export interface Piece {
  text: string;
  tokens: number | null;
}

/**
 * Reads one JSON answer or stream event of either API.
 * @param mode Which API.
 * @param data The parsed JSON.
 */
export function readPiece(mode: "gemini" | "openai", data: unknown): Piece {
  if (mode === "openai") {
    const d = data as {
      choices?: { delta?: { content?: string }; message?: { content?: string } }[];
      usage?: { total_tokens?: number } | null;
    };
    const choice = d.choices?.[0];
    return {
      text: choice?.delta?.content ?? choice?.message?.content ?? "",
      tokens: d.usage?.total_tokens ?? null,
    };
  }
  const d = data as {
    candidates?: { content?: { parts?: { text?: string; thought?: boolean }[] } }[];
    usageMetadata?: { totalTokenCount?: number };
  };
  const parts = d.candidates?.[0]?.content?.parts ?? [];
  return {
    text: parts.filter((p) => !p.thought).map((p) => p.text ?? "").join(""),
    tokens: d.usageMetadata?.totalTokenCount ?? null,
  };
}

/**
 * Splits server-sent events as they arrive: returns the `data` of each complete event and keeps
 * the rest for the next read (events may straddle reads; Google separates them with CRLF pairs).
 * @param buffer Text not yet consumed, plus the new read.
 * @returns Complete events' data (`[DONE]` dropped) and what is left.
 */
export function takeEvents(buffer: string): { events: string[]; rest: string } {
  let rest = buffer.replace(/\r\n/g, "\n");
  const events: string[] = [];
  let end;
  while ((end = rest.indexOf("\n\n")) >= 0) {
    const event = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) =>
      l.slice(5).trim()
    )
      .join("");
    if (data && data !== "[DONE]") events.push(data);
  }
  return { events, rest };
}
