/**
 * The wiring of one application: the subsystems started in order ({@linkcode startServices}) and
 * the HTTP surface over them ({@linkcode buildHttp}). `core/app.ts`'s `createApp` puts the two
 * together; hosts call that.
 * @module
 */
export type { AppOptions, GatewayApp } from "./app_options.ts";
export { ADMIN_BODY_LIMIT, buildHttp } from "./http.ts";
export { type Services, startServices } from "./services.ts";
