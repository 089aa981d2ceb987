/**
 * The Files API's uploads: the resumable protocol (start, query, upload, finalize, cancel) and
 * multipart uploads. Bytes are hashed and counted as they arrive, never kept.
 * @module
 */

import { createHash } from "node:crypto";
import { badRequest, errorReply, gError, notFound } from "./errors.ts";
import { MultipartScanner } from "./multipart.ts";
import {
  type Ctx,
  FILE_TTL_MS,
  type Json,
  NO_PERMISSION,
  type Reply,
  type UploadSession,
} from "./state.ts";
import { asObj, asStr, now, randomId, tryParse } from "./util.ts";
import { jsonReply, parseObject } from "./wire.ts";

/** How an upload request's body is read, worked out before it is read. */
export interface UploadIntake {
  /** the upload path's match (group 1: the API version), or null for any other path */
  match: RegExpExecArray | null;
  /** a POST to an open session's upload URL */
  isChunk: boolean;
  session: UploadSession | undefined;
  isMultipart: boolean;
  /** the chunk's offset is where the session stands, and the key may write to it */
  offsetOk: boolean;
  scanner: MultipartScanner | undefined;
  /** where the body's bytes go as they arrive */
  sink: ((chunk: Uint8Array) => void) | undefined;
}

/**
 * Classifies an upload request and prepares where its bytes go: upload bytes are hashed as they
 * arrive instead of being kept.
 * @param ctx The request in flight.
 */
export function uploadIntake(ctx: Ctx): UploadIntake {
  const { st, req, url, path } = ctx;
  const match = /^\/upload\/(v1|v1beta|v1alpha)\/files$/.exec(path);
  const uploadId = url.searchParams.get("upload_id");
  const isChunk = match !== null && uploadId !== null && req.method === "POST";
  const session = isChunk ? st.uploads.get(uploadId) : undefined;
  const isMultipart = match !== null && !isChunk &&
    (req.headers.get("x-goog-upload-protocol") ?? "").toLowerCase() === "multipart";

  let sink: ((chunk: Uint8Array) => void) | undefined;
  const offsetHeader = req.headers.get("x-goog-upload-offset");
  const offsetOk = session !== undefined && session.state === "active" &&
    (!ctx.key || ctx.key === session.owner) &&
    offsetHeader !== null && Number(offsetHeader) === session.received;
  if (session && offsetOk) {
    sink = (chunk) => {
      session.hash.update(chunk);
      session.received += chunk.byteLength;
    };
  }
  let scanner: MultipartScanner | undefined;
  if (isMultipart) {
    const boundary = /boundary="?([^";]+)"?/i.exec(req.headers.get("content-type") ?? "")?.[1];
    if (boundary) {
      const s = new MultipartScanner(boundary);
      scanner = s;
      sink = (chunk) => s.push(chunk);
    }
  }
  return { match, isChunk, session, isMultipart, offsetOk, scanner, sink };
}

/**
 * Answers an upload request: a chunk of a resumable session, a multipart upload, or the start of
 * a resumable session.
 * @param ctx The request in flight, its body read.
 * @param upload What {@linkcode uploadIntake} found.
 */
export function serveUpload(ctx: Ctx, upload: UploadIntake): Reply {
  if (upload.isChunk) return serveUploadChunk(ctx, upload.session, upload.offsetOk);
  if (upload.isMultipart) return finishMultipart(ctx, upload.scanner);
  return startResumable(ctx, upload.match?.[1] ?? "v1beta");
}

/** Starts a resumable upload session and answers its upload URL. */
export function startResumable(ctx: Ctx, version: string): Reply {
  const protocol = (ctx.req.headers.get("x-goog-upload-protocol") ?? "").toLowerCase();
  const command = (ctx.req.headers.get("x-goog-upload-command") ?? "").toLowerCase();
  if (ctx.req.method !== "POST" || protocol !== "resumable" || command !== "start") {
    return errorReply(ctx, badRequest("Upload protocol or command is missing or not supported."));
  }
  const parsed = parseObject(ctx);
  if (!parsed.ok) return errorReply(ctx, parsed.error);
  const file = asObj(parsed.value.file) ?? {};
  const declared = ctx.req.headers.get("x-goog-upload-header-content-length");
  const id = randomId(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
  const session: UploadSession = {
    id,
    owner: ctx.key,
    mimeType: ctx.req.headers.get("x-goog-upload-header-content-type") ?? asStr(file.mimeType) ??
      "application/octet-stream",
    received: 0,
    hash: createHash("sha256"),
    state: "active",
  };
  const displayName = asStr(file.displayName);
  if (displayName) session.displayName = displayName;
  const requestedName = asStr(file.name);
  if (requestedName) session.requestedName = requestedName;
  if (declared !== null && /^\d+$/.test(declared)) session.declaredSize = Number(declared);
  ctx.st.uploads.set(id, session);
  return {
    status: 200,
    headers: {
      "x-goog-upload-url":
        `${ctx.st.url}/upload/${version}/files?upload_id=${id}&upload_protocol=resumable`,
      "x-goog-upload-status": "active",
      "x-goog-upload-chunk-granularity": "8388608",
      "x-guploader-uploadid": id,
    },
  };
}

/** One request of a resumable upload session: query, cancel, upload, finalize. */
export function serveUploadChunk(
  ctx: Ctx,
  session: UploadSession | undefined,
  offsetOk: boolean,
): Reply {
  if (!session) return errorReply(ctx, notFound("Upload session not found."));
  if (ctx.key && ctx.key !== session.owner) {
    return errorReply(ctx, gError(403, "PERMISSION_DENIED", NO_PERMISSION));
  }
  const commands = (ctx.req.headers.get("x-goog-upload-command") ?? "").toLowerCase()
    .split(",").map((c) => c.trim()).filter((c) => c !== "");
  if (session.state !== "active") {
    return {
      ...errorReply(ctx, badRequest(`Upload session is already ${session.state}.`)),
      headers: { "x-goog-upload-status": session.state },
    };
  }
  if (commands.includes("query")) {
    return {
      status: 200,
      headers: {
        "x-goog-upload-status": "active",
        "x-goog-upload-size-received": String(session.received),
      },
    };
  }
  if (commands.includes("cancel")) {
    session.state = "cancelled";
    return { status: 200, headers: { "x-goog-upload-status": "cancelled" } };
  }
  if (commands.includes("upload") && !offsetOk) {
    const offset = ctx.req.headers.get("x-goog-upload-offset");
    return {
      ...errorReply(
        ctx,
        badRequest(
          `Invalid upload offset ${
            JSON.stringify(offset)
          }: ${session.received} bytes were received so far.`,
        ),
      ),
      headers: { "x-goog-upload-status": "active" },
    };
  }
  if (!commands.includes("finalize")) {
    if (!commands.includes("upload")) {
      return errorReply(ctx, badRequest("Upload command is missing or not supported."));
    }
    return { status: 200, headers: { "x-goog-upload-status": "active" } };
  }
  return finalizeUpload(ctx, session);
}

/** The finalize command: the file is stored when as many bytes came as were declared. */
function finalizeUpload(ctx: Ctx, session: UploadSession): Reply {
  if (session.declaredSize !== undefined && session.declaredSize !== session.received) {
    session.state = "cancelled";
    return {
      ...errorReply(
        ctx,
        badRequest(
          `Upload finalized with ${session.received} bytes but ${session.declaredSize} were declared.`,
        ),
      ),
      headers: { "x-goog-upload-status": "final" },
    };
  }
  session.state = "final";
  ctx.st.uploads.delete(session.id);
  const file = storeFile(ctx, session.owner, {
    displayName: session.displayName,
    requestedName: session.requestedName,
    mimeType: session.mimeType,
    size: session.received,
    sha256Hex: session.hash.digest("hex"),
  });
  return jsonReply({ file }, 200, { "x-goog-upload-status": "final" });
}

function storeFile(
  ctx: Ctx,
  owner: string | null,
  info: {
    displayName: string | undefined;
    requestedName: string | undefined;
    mimeType: string;
    size: number;
    sha256Hex: string;
  },
): Json {
  let id = info.requestedName?.replace(/^files\//, "") ?? "";
  if (!/^[a-z0-9-]{1,40}$/.test(id) || ctx.st.files.has(id)) id = randomId(12);
  const created = now();
  const file: Json = { name: `files/${id}` };
  if (info.displayName) file.displayName = info.displayName;
  Object.assign(file, {
    mimeType: info.mimeType,
    sizeBytes: String(info.size),
    createTime: created,
    updateTime: created,
    expirationTime: new Date(Date.now() + FILE_TTL_MS).toISOString(),
    // Google's sha256Hash is the base64 of the hex digest, not of the raw digest.
    sha256Hash: btoa(info.sha256Hex),
    uri: `${ctx.st.url}/v1beta/files/${id}`,
    state: "ACTIVE",
    source: "UPLOADED",
  });
  ctx.st.files.set(id, { owner, resource: file });
  return file;
}

/** Stores the file of a multipart upload. */
export function finishMultipart(ctx: Ctx, scanner: MultipartScanner | undefined): Reply {
  const result = scanner?.finish();
  if (!result) {
    return errorReply(ctx, badRequest("Multipart upload body is malformed."));
  }
  const meta = asObj(asObj(tryParse(result.metadata))?.file) ?? {};
  const file = storeFile(ctx, ctx.key, {
    displayName: asStr(meta.displayName),
    requestedName: asStr(meta.name),
    mimeType: result.mimeType ?? asStr(meta.mimeType) ?? "application/octet-stream",
    size: result.size,
    sha256Hex: result.sha256Hex,
  });
  return jsonReply({ file }, 200, { "x-goog-upload-status": "final" });
}
