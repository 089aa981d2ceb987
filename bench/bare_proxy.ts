/**
 * The floor: the least a Deno proxy can do (Deno.serve + fetch, nothing swapped or checked).
 * Env: UPSTREAM_URL, PORT (0 picks one). Prints `BARE_PROXY_PORT=<port>` once listening.
 * @module
 */
const upstream = Deno.env.get("UPSTREAM_URL") ?? "http://127.0.0.1:8080";
const port = Number(Deno.env.get("PORT") ?? "0");
const onListen = (addr: Deno.NetAddr) => console.log(`BARE_PROXY_PORT=${addr.port}`);

Deno.serve({ hostname: "127.0.0.1", port, onListen }, function bareProxy(request) {
  const url = new URL(request.url);
  const init = { method: request.method, headers: request.headers, body: request.body };
  return fetch(upstream + url.pathname + url.search, init);
});
