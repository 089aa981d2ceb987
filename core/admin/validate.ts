import type { z } from "zod";
import { HttpError } from "../errors.ts";

/**
 * Reads a JSON request body and validates it with a zod schema.
 * @param request The request.
 * @param schema The expected shape.
 * @returns The validated value.
 * @throws {HttpError} 400 naming the first bad field.
 */
export async function parseJson<T extends z.ZodType>(
  request: Request,
  schema: T,
): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new HttpError(400, "Request body must be JSON");
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `"${issue.path.join(".")}"` : "body";
    throw new HttpError(400, `Invalid ${where}: ${issue?.message ?? "invalid value"}`);
  }
  return result.data;
}
