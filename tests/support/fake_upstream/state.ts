/**
 * The fake's shared state: what one running fake keeps between requests (failure rules, holds,
 * stored files, caches, batches, interactions, upload sessions, open sockets), what a handler
 * knows about the request in flight, what it answers, and the constants of Google's wire format.
 * @module
 */

import type { Hash } from "node:crypto";
import type { Failure, FakeUpstream, RecordedRequest } from "./types.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** The `error` member of Google's error envelope. */
export interface GoogleError {
  code: number;
  message: string;
  status: string;
  details?: Json[];
}

/** A failure the fake was told to send, to which requests and how many more times. */
export interface Rule {
  key: string | null;
  failure: Failure;
  model?: string;
  remaining: number;
}

/** A stream hold: streams wait before chunk `index` until it is released. */
export interface Hold {
  index: number;
  reached: PromiseWithResolvers<void>;
  released: PromiseWithResolvers<void>;
  isReleased: boolean;
}

/** A stored file, cache, batch or interaction and the key that created it. */
export interface Owned {
  owner: string | null;
  resource: Json;
}

/** A resumable upload in progress: its bytes are hashed and counted, not kept. */
export interface UploadSession {
  id: string;
  owner: string | null;
  displayName?: string;
  requestedName?: string;
  mimeType: string;
  declaredSize?: number;
  received: number;
  hash: Hash;
  state: "active" | "final" | "cancelled";
}

/** Everything one running fake keeps. */
export interface State {
  url: string;
  delayMs: number;
  gzip: boolean;
  streamChunks: number;
  chunkDelayMs: number;
  fake: FakeUpstream;
  requests: RecordedRequest[];
  rules: Rule[];
  holds: Hold[];
  files: Map<string, Owned>;
  caches: Map<string, Owned>;
  batches: Map<string, Owned>;
  interactions: Map<string, Owned>;
  uploads: Map<string, UploadSession>;
  sockets: Set<WebSocket>;
}

/** Everything a handler needs about the request in flight. */
export interface Ctx {
  st: State;
  req: Request;
  url: URL;
  path: string;
  rec: RecordedRequest;
  index: number;
  finish: () => void;
  key: string | null;
  extraDelayMs: number;
  /** errors go out wrapped in a JSON array (OpenAI paths, JSON-array streams) */
  wrapErrors: boolean;
  /** error bodies keep the text/event-stream type (alt=sse streams) */
  sse: boolean;
  cut?: Extract<Failure, { kind: "cut_stream" }>;
}

/** What a handler answers; turned into a Response by `send`. */
export interface Reply {
  status: number;
  contentType?: string;
  headers?: Record<string, string>;
  body?: string;
  chunks?: (signal: AbortSignal) => AsyncGenerator<string, void, undefined>;
}

/** Request bodies up to this size are kept in the record (and multipart heads scanned). */
export const BODY_KEEP_LIMIT = 1024 * 1024;
/** Google's JSON content type. */
export const JSON_TYPE = "application/json; charset=UTF-8";
/** The content type of server-sent events. */
export const SSE_TYPE = "text/event-stream";
/** The service name in Google's error details. */
export const SERVICE = "generativelanguage.googleapis.com";
/** The project number the fake's keys belong to. */
export const FAKE_PROJECT = "123456789";
/** Google's answer to a request without any credential. */
export const UNREGISTERED =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
/** Google's message for a key it does not know. */
export const INVALID_KEY_MESSAGE = "API key not valid. Please pass a valid API key.";
/** Google's plain permission-denied message. */
export const NO_PERMISSION = "The caller does not have permission";
/** How long an uploaded file lives, ms. */
export const FILE_TTL_MS = 48 * 3600 * 1000;
/** A 1x1 transparent PNG, for image endpoints. */
export const TINY_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
/** The Live API's WebSocket paths: version and method. */
export const WS_PATH =
  /^\/ws\/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;

/** Encodes strings as UTF-8. */
export const enc = new TextEncoder();
