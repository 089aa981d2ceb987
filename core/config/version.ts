/** The product version, reported by `/healthz` and the admin console. */
export const VERSION = "0.1.0";
