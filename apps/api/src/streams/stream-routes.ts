import {
  createStreamSchema,
  streamListSchema,
  streamSchema,
  streamTestResultSchema,
  updateStreamSchema,
} from "@auditlog/events";
import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, empty, json, orgParam, pathParam } from "../openapi/describe.ts";
import {
  createStream,
  deleteStream,
  listStreams,
  readStream,
  testStream,
  updateStream,
} from "./stream-service.ts";

const streamIdParam = pathParam("id", "The stream's id", "str_…");
/** A stream as created or changed: its generated signing secret, once, when there is one. */
const streamWithSecretSchema = streamSchema.extend({ signingSecret: z.string().optional() });

const startMessage = 'must be "now" or { "seq": N } with N a whole number of at least 1';

/**
 * The create body. `start` is "now" or `{ seq }`: zod names a bad one as `start` (neither
 * alternative matched); a `{ seq }` that is not a whole number ≥ 1 is named `start.seq`, as one
 * outside the retained log is.
 */
async function readCreate(c: Context<AppEnv>) {
  try {
    return await readJsonBody(c, createStreamSchema);
  } catch (error) {
    if (!(error instanceof ApiError) || !error.details?.some((d) => d.path === "start")) {
      throw error;
    }
    // Parsed already (the error comes after the JSON parsed); Hono keeps the body.
    const start = ((await c.req.json()) as { start?: unknown }).start;
    const path =
      typeof start === "object" && start !== null && "seq" in start ? "start.seq" : "start";
    const details = error.details.map((detail) =>
      detail.path === "start" ? { path, message: startMessage } : detail,
    );
    throw new ApiError(
      "validation_failed",
      `invalid request body: ${details.map((d) => d.path).join(", ")}`,
      details,
    );
  }
}

/**
 * `/v1/orgs/:org/streams`: the organisation's log streams to SIEMs and buckets, seen by its
 * admins and auditors and changed by its admins only (auth/role-policy.ts), by session (with
 * CSRF for a change) or personal access token. No answer holds a
 * destination's secret, only its last four characters (`secretHint`); an https stream's
 * generated signing secret is answered once, by the request that generated it
 * (`signingSecret`). `POST /:id/test` sends one test message (`StreamTestResult`).
 */
export const streamRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Streams",
      summary: "The organisation's log streams",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: {
        200: json(streamListSchema, "Streams (secrets shown as their last four characters)"),
      },
    }),
    async (c) => c.json({ streams: await listStreams(c.var.services, c.var.org) }),
  )
  .post(
    "/",
    documented({
      tag: "Streams",
      summary: "Create a stream to a SIEM or bucket",
      description:
        '`q` (the query language; empty: everything, hidden types included) selects the entries; `start` is "now" or `{ seq }`. An https stream\'s generated signing secret is answered once (`signingSecret`).',
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createStreamSchema },
      bodyLimit: true,
      responses: { 201: json(streamWithSecretSchema, "The stream") },
      errors: [409],
    }),
    limitBody(32 * 1024),
    async (c) => {
      const body = await readCreate(c);
      const created = await createStream(c.var.services, {
        org: c.var.org,
        body,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json({ ...created.stream, ...pick(created) }, 201);
    },
  )
  .get(
    "/:id",
    documented({
      tag: "Streams",
      summary: "One stream and its delivery state",
      auth: "orgAdmin",
      parameters: [orgParam, streamIdParam],
      responses: { 200: json(streamSchema, "The stream") },
    }),
    async (c) => c.json(await readStream(c.var.services, c.var.org, c.req.param("id"))),
  )
  .patch(
    "/:id",
    documented({
      tag: "Streams",
      summary: "Change, pause or resume a stream",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, streamIdParam],
      body: { schema: updateStreamSchema },
      bodyLimit: true,
      responses: { 200: json(streamWithSecretSchema, "The stream") },
      errors: [409],
    }),
    limitBody(32 * 1024),
    async (c) => {
      const body = await readJsonBody(c, updateStreamSchema);
      const updated = await updateStream(c.var.services, {
        org: c.var.org,
        id: c.req.param("id"),
        body,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json({ ...updated.stream, ...pick(updated) });
    },
  )
  // One test message to the destination now; the answer says what the receiver said.
  .post(
    "/:id/test",
    documented({
      tag: "Streams",
      summary: "Send one test message to the destination now",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, streamIdParam],
      responses: { 200: json(streamTestResultSchema, "What the receiver said") },
    }),
    async (c) =>
      c.json(await testStream(c.var.services, { org: c.var.org, id: c.req.param("id") })),
  )
  .delete(
    "/:id",
    documented({
      tag: "Streams",
      summary: "Delete a stream",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, streamIdParam],
      responses: { 204: empty("Deleted") },
    }),
    async (c) => {
      await deleteStream(c.var.services, {
        org: c.var.org,
        id: c.req.param("id"),
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.body(null, 204);
    },
  );

/** The generated signing secret, when there is one to answer (once). */
function pick(result: { signingSecret?: string }) {
  return result.signingSecret ? { signingSecret: result.signingSecret } : {};
}
