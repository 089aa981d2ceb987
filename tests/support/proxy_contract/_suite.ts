/**
 * What every case of the proxy contract shares: the target's types, the test keys and token,
 * a proxy started per case in front of its own fake upstream, and clients pointed at it.
 * @module
 */
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { assert, assertNotIncludes } from "../assert.ts";
import {
  type FakeUpstream,
  type RecordedRequest,
  startFakeUpstream,
} from "../fake_upstream/mod.ts";

/** What a target needs to start a proxy in front of the fake upstream. */
export interface TargetOptions {
  /** The fake upstream's base URL. */
  upstreamUrl: string;
  /** Gemini keys to configure. */
  keys: string[];
  /** Proxy tokens to configure. */
  tokens: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A running proxy under test. */
export interface ProxyTarget {
  /** Base URL clients use (including any function path prefix). */
  url: string;
  /** Log lines the proxy wrote, when the target can capture them. */
  logs: string[];
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a proxy for one test. */
export type StartTarget = (options: TargetOptions) => Promise<ProxyTarget>;

/** Cases a target cannot pass because of its platform, each with the reason, shown as skipped. */
export interface ContractSkips {
  /** The Live API WebSocket relay. */
  live?: string;
  /** A 100 MB upload chunk streamed through. */
  hugeUpload?: string;
}

/** Options of {@linkcode runProxyContract}. */
export interface ContractOptions {
  /** Cases to skip, with the platform's reason. */
  skip?: ContractSkips;
}

/** Obviously fake keys (they never reach Google). */
export const TEST_KEYS = [
  "AIzaFAKE-TEST-key-000000000000000000001",
  "AIzaFAKE-TEST-key-000000000000000000002",
  "AIzaFAKE-TEST-key-000000000000000000003",
];
/** The proxy token clients use in the suite. */
export const TEST_TOKEN = "gp-TEST-contract-token-0001";

/** The model the cases call. */
export const MODEL = "gemini-2.5-flash";

/** One case's fake upstream and proxy. */
export interface Ctx {
  fake: FakeUpstream;
  proxy: ProxyTarget;
}

/** An SSE body with the fake's random ids and times blanked out, to compare two answers. */
export function withoutIds(sse: string): string {
  return sse.replace(/"id":"[A-Za-z0-9]+"/g, '"id":"-"').replace(/"created":\d+/g, '"created":0');
}

/** Finds the upstream record of a response relayed by the proxy. */
export function recordOf(fake: FakeUpstream, response: Response): RecordedRequest {
  const index = Number(response.headers.get("x-fake-request-index"));
  const record = fake.requests[index];
  assert(record, `no upstream record for index ${index}`);
  return record;
}

/** A case's test name and options: skipped when the platform gives a reason (in the name). */
export type CaseTitle = [string, { ignore: boolean }];

/** What a proxy is started with for one case. */
export interface ProxySetup {
  keys?: string[];
  env?: Record<string, string>;
  fake?: Parameters<typeof startFakeUpstream>[0];
}

/** The target under test and the helpers every case uses. */
export interface Suite {
  /** Target name used in test names. */
  name: string;
  /** Title of the Live case, skipped where the platform cannot relay it. */
  live: CaseTitle;
  /** Title of the 100 MB upload case, skipped where the platform cannot take it. */
  hugeUpload: CaseTitle;
  /** Runs `fn` against a proxy and a fake started for it; then checks no key reached a log. */
  withProxy(fn: (ctx: Ctx) => Promise<void>, setup?: ProxySetup): Promise<void>;
  /** A @google/genai client using the proxy token. */
  genai(ctx: Ctx): GoogleGenAI;
  /** An openai client using the proxy token, without retries. */
  openai(ctx: Ctx): OpenAI;
  /** Upstream saw only configured keys and never the proxy token. */
  assertUpstreamSawOnlyRealKeys(fake: FakeUpstream): void;
}

/**
 * The helpers of one target's cases.
 * @param name Target name used in test names.
 * @param start Starts the target.
 * @param options Cases the target's platform cannot pass, with the reason.
 */
export function createSuite(name: string, start: StartTarget, options: ContractOptions): Suite {
  /** A case's test name and options: skipped when the platform gives a reason (in the name). */
  function unless(reason: string | undefined, title: string): [string, { ignore: boolean }] {
    return reason === undefined
      ? [`${name}: ${title}`, { ignore: false }]
      : [`${name}: ${title} (skipped: ${reason})`, { ignore: true }];
  }
  const live = unless(
    options.skip?.live,
    "@google/genai live.connect relays frames both ways with the key swapped",
  );
  const hugeUpload = unless(options.skip?.hugeUpload, "a 100 MB upload chunk streams through");

  async function withProxy(
    fn: (ctx: Ctx) => Promise<void>,
    setup: ProxySetup = {},
  ): Promise<void> {
    const fake = await startFakeUpstream(setup.fake);
    let proxy: ProxyTarget | undefined;
    try {
      proxy = await start({
        upstreamUrl: fake.url,
        keys: setup.keys ?? TEST_KEYS,
        tokens: [TEST_TOKEN],
        env: setup.env ?? {},
      });
      await fn({ fake, proxy });
      // No key may reach a client or a log line, whatever the test did.
      for (const line of proxy.logs) {
        for (const key of TEST_KEYS) assertNotIncludes(line, key, "log line");
        assertNotIncludes(line, TEST_TOKEN, "log line");
      }
    } finally {
      await proxy?.close();
      await fake.close();
    }
  }

  function genai(ctx: Ctx): GoogleGenAI {
    return new GoogleGenAI({ apiKey: TEST_TOKEN, httpOptions: { baseUrl: ctx.proxy.url } });
  }
  function openai(ctx: Ctx): OpenAI {
    return new OpenAI({
      apiKey: TEST_TOKEN,
      baseURL: `${ctx.proxy.url}/v1beta/openai/`,
      maxRetries: 0,
    });
  }
  function assertUpstreamSawOnlyRealKeys(fake: FakeUpstream): void {
    assert(fake.requests.length > 0, "upstream saw requests");
    for (const r of fake.requests) {
      if (r.key !== null) assert(TEST_KEYS.includes(r.key), `upstream saw key ${r.key}`);
      assertNotIncludes(JSON.stringify(r.headers) + r.search, TEST_TOKEN, "upstream request");
    }
  }
  return { name, live, hugeUpload, withProxy, genai, openai, assertUpstreamSawOnlyRealKeys };
}
