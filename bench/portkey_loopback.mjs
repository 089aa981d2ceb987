/**
 * Node preload (`node --import`) that keeps Portkey's gateway on loopback.
 *
 * The gateway's start script calls `serve({ fetch, port })` from @hono/node-server, which ends in
 * `server.listen(port, undefined, cb)`: no host, so Node binds every interface and the gateway has
 * no flag or variable to change it. The benchmark must only ever listen on 127.0.0.1, so any listen
 * without a host is given one here, before the gateway's code runs.
 * @module
 */
import net from "node:net";

const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first, second] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (second === undefined || second === null || typeof second === "function") {
      args.splice(1, second === undefined || second === null ? 1 : 0, "127.0.0.1");
    } else if (typeof second === "string" && second !== "127.0.0.1") {
      args[1] = "127.0.0.1";
    }
  } else if (first && typeof first === "object" && !("path" in first)) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
