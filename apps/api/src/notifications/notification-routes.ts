import {
  countUnreadNotifications,
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
  toNotification,
} from "@auditlog/db";
import { notificationSchema } from "@auditlog/events";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { readLimit } from "../http/query-params.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { body, documented, json, limitParam, pathParam, queryParam } from "../openapi/describe.ts";
import { streamNotifications } from "./notification-stream.ts";

export const maxNotificationsPage = 100;
/**
 * `/v1/notifications`: the signed-in user's notifications (export ready / failed), and their live
 * stream. Everything is scoped to `c.var.user`: another user's notification answers 404.
 */
export const notificationRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests)
  .get(
    "/",
    documented({
      tag: "Notifications",
      summary: "My notifications, newest first",
      auth: "user",
      parameters: [
        queryParam("unread", "Only unread ones", { type: "string", enum: ["true", "false"] }),
        limitParam(50, maxNotificationsPage),
        queryParam("before", "A notification id: the page after it"),
      ],
      responses: {
        200: json(
          z.object({ notifications: z.array(notificationSchema), unreadCount: z.number().int() }),
          "Notifications and the unread count",
        ),
      },
    }),
    async (c) => {
      const unreadParam = c.req.query("unread");
      if (unreadParam !== undefined && unreadParam !== "true" && unreadParam !== "false") {
        throw new ApiError("bad_request", "invalid unread", [
          { path: "unread", message: "must be true or false" },
        ]);
      }
      const limit = readLimit(c, 50, maxNotificationsPage);
      const before = c.req.query("before") || undefined;
      const { db } = c.var.services;
      const [rows, unreadCount] = await Promise.all([
        listNotifications(db, {
          userId: c.var.user.id,
          unreadOnly: unreadParam === "true",
          limit,
          ...(before ? { before } : {}),
        }),
        countUnreadNotifications(db, c.var.user.id),
      ]);
      return c.json({ notifications: rows.map(toNotification), unreadCount });
    },
  )
  .post(
    "/read-all",
    documented({
      tag: "Notifications",
      summary: "Mark all my notifications read",
      auth: "user",
      unsafe: true,
      responses: { 200: json(z.object({ updated: z.number().int() }), "How many were marked") },
    }),
    async (c) => {
      const updated = await markAllNotificationsRead(c.var.services.db, {
        userId: c.var.user.id,
      });
      return c.json({ updated });
    },
  )
  .post(
    "/:id/read",
    documented({
      tag: "Notifications",
      summary: "Mark one notification read",
      auth: "user",
      unsafe: true,
      parameters: [pathParam("id", "The notification's id")],
      responses: { 200: json(notificationSchema, "The notification") },
      errors: [404],
    }),
    async (c) => {
      const row = await markNotificationRead(c.var.services.db, {
        userId: c.var.user.id,
        id: c.req.param("id"),
      });
      if (!row) throw new ApiError("not_found", "notification not found");
      return c.json(toNotification(row));
    },
  )
  /** The live stream (Server-Sent Events); see notification-stream.ts. */
  .get(
    "/stream",
    documented({
      tag: "Notifications",
      summary: "My live stream (Server-Sent Events)",
      description:
        "`ready` once subscribed (data `{ unreadCount }`), then `notification` and `export.progress` events for me, `entries.stored` (counts only) for each organisation whose log I may read, and a comment every 15 s, for as long as the credential that opened it works. 503 when this server holds as many streams as it may.",
      auth: "user",
      responses: { 200: body("text/event-stream", "An event stream") },
    }),
    (c) => streamNotifications(c),
  );
