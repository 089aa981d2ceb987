/**
 * The proxy contract suite: every deployment target (Deno entry, Supabase Edge Function,
 * Cloudflare Worker) must pass it. It drives the proxy over real sockets with the official
 * `@google/genai` and `openai` clients and raw fetch, against the fake Gemini upstream.
 * @module
 */
import { runBodiesContract } from "./bodies.ts";
import { runClientsContract } from "./clients.ts";
import { runHostileContract } from "./hostile.ts";
import { runRequestsContract } from "./requests.ts";
import { runServiceContract } from "./service.ts";
import { runStreamsContract } from "./streams.ts";
import {
  type ContractOptions,
  createSuite,
  type StartTarget,
  TEST_KEYS,
  TEST_TOKEN,
} from "./_suite.ts";
import { runVerdictContract } from "./verdicts.ts";

export {
  type ContractOptions,
  type ContractSkips,
  type ProxyTarget,
  type StartTarget,
  type TargetOptions,
  TEST_KEYS,
  TEST_TOKEN,
} from "./_suite.ts";

/**
 * Registers the contract tests for one target.
 * @param name Target name used in test names.
 * @param start Starts the target.
 * @param options Cases the target's platform cannot pass, with the reason (printed as ignored).
 */
export function runProxyContract(
  name: string,
  start: StartTarget,
  options: ContractOptions = {},
): void {
  const suite = createSuite(name, start, options);
  runClientsContract(suite);
  runBodiesContract(suite);
  runRequestsContract(suite);
  runStreamsContract(suite);
  runServiceContract(suite);
  runVerdictContract(name, start);
  runHostileContract(name, start, {
    keys: TEST_KEYS,
    token: TEST_TOKEN,
    skipLive: options.skip?.live,
  });
}
