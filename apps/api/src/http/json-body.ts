import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { inspectJsonBody, maxBodyDepth } from "./refuse-unstorable.ts";

/** The request's JSON body: 415 unless it is declared JSON, 400 unless it parses. */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const contentType = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  }
  try {
    return await c.req.json();
  } catch {
    throw new ApiError("invalid_json", "request body is not valid JSON");
  }
}

/** Parses a JSON body against `schema`; 415/400 (naming the fields) otherwise. */
export async function readJsonBody<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  const body = await readJson(c);
  const problem = inspectJsonBody(body);
  if (problem) {
    const message =
      problem.problem === "nul" ? "must not hold NUL" : `nested deeper than ${maxBodyDepth} levels`;
    throw new ApiError("validation_failed", `invalid request body: ${problem.path} ${message}`, [
      { path: problem.path, message },
    ]);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({
      path: issue.path.join(".") || "(body)",
      message: issue.message,
    }));
    throw new ApiError(
      "validation_failed",
      `invalid request body: ${details.map((d) => d.path).join(", ")}`,
      details,
    );
  }
  return parsed.data;
}
