import {
  countUnreadNotifications,
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
  toNotification,
} from "@auditlog/db";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { readLimit } from "../http/query-params.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { streamNotifications } from "./notification-stream.ts";

export const maxNotificationsPage = 100;
/**
 * `/v1/notifications`: the signed-in user's notifications (export ready / failed), and their live
 * stream. Everything is scoped to `c.var.user`: another user's notification answers 404.
 */
export const notificationRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests)
  .get("/", async (c) => {
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
  })
  .post("/read-all", async (c) => {
    const updated = await markAllNotificationsRead(c.var.services.db, {
      userId: c.var.user.id,
    });
    return c.json({ updated });
  })
  .post("/:id/read", async (c) => {
    const row = await markNotificationRead(c.var.services.db, {
      userId: c.var.user.id,
      id: c.req.param("id"),
    });
    if (!row) throw new ApiError("not_found", "notification not found");
    return c.json(toNotification(row));
  })
  /** The live stream (Server-Sent Events); see notification-stream.ts. */
  .get("/stream", (c) => streamNotifications(c));
