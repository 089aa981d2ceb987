/**
 * The tokens page: create a proxy token (its secret shown once, with a copy button), edit limits,
 * allow-list and expiry, rotate, disable, delete; usage per token.
 * @module
 */
import { ConfirmRow } from "./_shared/confirm_row.tsx";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, messageOf } from "./_shared/api.ts";
import { ariaBool, formatCount, formatTime } from "./_shared/format.ts";
import { TokenForm, type TokenInput } from "./_shared/token_form.tsx";
import type { TokenView } from "./_shared/types.ts";
import { formatUsd } from "./_shared/usd.ts";

/** Props: the tokens as the server read them. */
export interface TokensManagerProps {
  /** `GET /admin/api/tokens`. */
  tokens: TokenView[];
}

interface Issued {
  name: string;
  secret: string;
}

/**
 * The tokens island.
 * @param props First data.
 */
export default function TokensManager(props: TokensManagerProps) {
  const tokens = useSignal(props.tokens);
  const creating = useSignal(false);
  const editing = useSignal<string | null>(null);
  const confirming = useSignal<string | null>(null);
  const issued = useSignal<Issued | null>(null);
  const copied = useSignal(false);
  const notice = useSignal<{ kind: "ok" | "bad"; text: string } | null>(null);

  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
  }, []);

  async function refresh() {
    tokens.value = (await api<{ tokens: TokenView[] }>("/tokens")).tokens;
  }
  async function run(what: () => Promise<void>, done?: string) {
    try {
      await what();
      if (done) notice.value = { kind: "ok", text: done };
      await refresh();
    } catch (e) {
      notice.value = { kind: "bad", text: messageOf(e) };
    }
  }
  async function create(input: TokenInput) {
    const body: Record<string, unknown> = { name: input.name };
    if (input.models) body.models = input.models;
    const limits = Object.fromEntries(Object.entries(input.limits).filter(([, v]) => v !== null));
    if (Object.keys(limits).length) body.limits = limits;
    if (input.expiresAt) body.expiresAt = input.expiresAt;
    const result = await api<{ token: TokenView; secret: string }>("/tokens", {
      method: "POST",
      body,
    });
    issued.value = { name: result.token.name, secret: result.secret };
    copied.value = false;
    creating.value = false;
    notice.value = null;
    await refresh();
  }
  async function update(token: TokenView, input: TokenInput) {
    await api(`/tokens/${token.id}`, {
      method: "PATCH",
      body: {
        name: input.name,
        models: input.models,
        limits: input.limits,
        expiresAt: input.expiresAt,
        enabled: input.enabled,
      },
    });
    editing.value = null;
    notice.value = { kind: "ok", text: `Saved “${input.name}”` };
    await refresh();
  }
  async function rotate(token: TokenView) {
    const result = await api<{ token: TokenView; secret: string }>(`/tokens/${token.id}/rotate`, {
      method: "POST",
    });
    issued.value = { name: token.name, secret: result.secret };
    copied.value = false;
  }
  async function copy() {
    const input = document.getElementById("issued-secret") as HTMLInputElement | null;
    if (!issued.value) return;
    try {
      await navigator.clipboard.writeText(issued.value.secret);
    } catch {
      input?.select();
      document.execCommand?.("copy");
    }
    copied.value = true;
  }

  const list = tokens.value;
  return (
    <div>
      <div class="page-head">
        <h1>Tokens</h1>
        <button
          type="button"
          class="btn primary"
          aria-expanded={ariaBool(creating.value)}
          onClick={() => creating.value = !creating.value}
        >
          New token
        </button>
      </div>
      {issued.value && (
        <section class="card" aria-labelledby="issued-title" data-issued>
          <h2 id="issued-title">Secret of “{issued.value.name}”</h2>
          <p class="notice warn">
            Copy it now: it is shown this once. The proxy keeps only its hash.
          </p>
          <div class="secret">
            <label class="sr-only" for="issued-secret">Token secret</label>
            <input
              id="issued-secret"
              readOnly
              value={issued.value.secret}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" class="btn" onClick={copy}>
              {copied.value ? "Copied" : "Copy"}
            </button>
            <button type="button" class="btn" onClick={() => issued.value = null}>Done</button>
          </div>
        </section>
      )}
      {notice.value && (
        <p class={`notice ${notice.value.kind}`} role="status">{notice.value.text}</p>
      )}
      {creating.value && (
        <section class="card" aria-label="New token">
          <h2>New token</h2>
          <TokenForm onSubmit={create} onCancel={() => creating.value = false} />
        </section>
      )}
      <div class="table-wrap cards">
        <table class="data cards" aria-label="Proxy tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Models</th>
              <th>Limits</th>
              <th>Expires</th>
              <th class="num">Today</th>
              <th class="num">This month</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.length === 0 && (
              <tr>
                <td colSpan={8} class="empty">No tokens yet.</td>
              </tr>
            )}
            {list.map((t) => [
              <tr key={t.id} data-token={t.id}>
                <td data-label="Name">
                  <span>
                    <strong>
                      <a href={`/admin/tokens/${t.id}`}>{t.name}</a>
                    </strong>
                    <div class="mono small muted">{t.masked}</div>
                    <div class="small muted">
                      {t.source === "env" ? "from PROXY_TOKENS" : "created here"} · last used{" "}
                      {t.lastUsedAt ? formatTime(t.lastUsedAt) : "never"}
                    </div>
                  </span>
                </td>
                <td data-label="Status">
                  <span
                    class={`pill ${
                      t.status === "enabled" ? "ok" : t.status === "expired" ? "warn" : "bad"
                    }`}
                  >
                    {t.status}
                  </span>
                </td>
                <td class="small mono" data-label="Models">
                  {t.models?.length
                    ? t.models.map((m) => <div key={m} class="nowrap">{m}</div>)
                    : <span class="muted">all</span>}
                </td>
                <td class="small" data-label="Limits">
                  {t.limits && Object.keys(t.limits).length
                    ? Object.entries(t.limits).map(([k, v]) => (
                      <div key={k} data-limit={k}>
                        {k === "budgetMicros"
                          ? `${formatUsd(v)} a month`
                          : `${k} ${formatCount(v)}`}
                      </div>
                    ))
                    : <span class="muted">none</span>}
                </td>
                <td class="small" data-label="Expires">
                  {t.expiresAt ? formatTime(t.expiresAt) : <span class="muted">never</span>}
                </td>
                <td class="num small" data-usage-today data-label="Today">
                  {formatCount(t.usage?.today.requests ?? 0)} req
                  <div class="muted">{formatCount(t.usage?.today.tokens ?? 0)} tok</div>
                </td>
                <td class="num small" data-label="This month" data-usage-month>
                  {formatCount(t.usage?.month.requests ?? 0)} req
                  <div class="muted">{formatCount(t.usage?.month.tokens ?? 0)} tok</div>
                  <div class="muted">{formatUsd(t.usage?.month.costMicros ?? 0)}</div>
                </td>
                <td data-label="Actions">
                  {confirming.value?.startsWith(`${t.id}:`)
                    ? (
                      <ConfirmRow
                        label="Confirm"
                        question={confirming.value.endsWith(":rotate")
                          ? "Rotate? The old secret stops working."
                          : `Delete “${t.name}”?`}
                        yes={confirming.value.endsWith(":rotate") ? "Yes, rotate" : "Yes, delete"}
                        onYes={() => {
                          const rotating = confirming.value?.endsWith(":rotate");
                          confirming.value = null;
                          void run(
                            () =>
                              rotating
                                ? rotate(t)
                                : api(`/tokens/${t.id}`, { method: "DELETE" }).then(() => {}),
                            rotating ? undefined : `Deleted “${t.name}”`,
                          );
                        }}
                        onCancel={() => confirming.value = null}
                      />
                    )
                    : (
                      <div class="actions">
                        <button
                          type="button"
                          class="btn small"
                          aria-expanded={ariaBool(editing.value === t.id)}
                          onClick={() => editing.value = editing.value === t.id ? null : t.id}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="btn small"
                          onClick={() => confirming.value = `${t.id}:rotate`}
                        >
                          Rotate
                        </button>
                        <button
                          type="button"
                          class="btn small"
                          onClick={() =>
                            run(
                              () =>
                                api(`/tokens/${t.id}`, {
                                  method: "PATCH",
                                  body: { enabled: !t.enabled },
                                }).then(() => {}),
                              `${t.enabled ? "Disabled" : "Enabled"} “${t.name}”`,
                            )}
                        >
                          {t.enabled ? "Disable" : "Enable"}
                        </button>
                        <button
                          type="button"
                          class="btn small danger"
                          onClick={() => confirming.value = `${t.id}:delete`}
                        >
                          Delete
                        </button>
                      </div>
                    )}
                </td>
              </tr>,
              editing.value === t.id && (
                <tr key={`${t.id}-edit`} class="editing">
                  <td colSpan={8}>
                    <TokenForm
                      token={t}
                      onSubmit={(input) => update(t, input)}
                      onCancel={() => editing.value = null}
                    />
                  </td>
                </tr>
              ),
            ])}
          </tbody>
        </table>
      </div>
    </div>
  );
}
