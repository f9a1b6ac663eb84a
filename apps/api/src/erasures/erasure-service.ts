import { createHmac } from "node:crypto";
import { eraseActor } from "@auditlog/db";
import { type Erasure, eraseFromEntry } from "@auditlog/events";
import {
  type ApiActor,
  type ApiClient,
  orgTarget,
  recordApiAction,
} from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import type { Services } from "../services.ts";

/**
 * The pseudonym an erased person gets in an organisation's log: `erased-` and the first 16 hex
 * digits of HMAC-SHA256(deployment key, org id ‖ 0x00 ‖ actor id). The same person keeps the
 * same pseudonym (two erasures, or entries stored later and erased again, still read as one
 * someone), two people get different ones, and without the deployment's secret it cannot be
 * turned back into the id, nor the id guessed from it.
 */
export function erasurePseudonym(key: Uint8Array, orgId: string, actorId: string): string {
  const mac = createHmac("sha256", key).update(`${orgId}\u0000${actorId}`).digest("hex");
  return `erased-${mac.slice(0, 16)}`;
}

export type ErasureServices = Pick<
  Services,
  "db" | "exportStorage" | "deploymentKeys" | "jobs" | "redis" | "env" | "logger"
>;

/**
 * Erases a person (`actorId`) from an organisation's log: the entries, the refused events kept
 * as dead letters, saved views and the export files that could hold them. The erasure is then
 * recorded in the organisation's own log, with the pseudonym and counts, never the erased values.
 */
export async function erasePerson(
  services: ErasureServices,
  input: {
    org: { id: string; slug: string; name: string };
    actorId: string;
    requester: ApiActor;
    client: ApiClient;
  },
): Promise<Erasure> {
  const { org, actorId } = input;
  const pseudonym = erasurePseudonym(
    await services.deploymentKeys.key("erasure-pseudonyms"),
    org.id,
    actorId,
  );
  const result = await eraseActor(services.db, {
    orgId: org.id,
    actorId,
    pseudonym,
    requestedBy: input.requester.id,
    erase: eraseFromEntry,
    deleteExportFiles: async (keys) => {
      for (const key of keys) await services.exportStorage.delete(key);
    },
  });
  if (!result.ok) {
    throw new ApiError("not_found", `no entry of ${org.slug} has actor ${actorId}`, [
      {
        path: "actorId",
        message: "is not an actor (nor a target) of any entry of this organisation",
      },
    ]);
  }
  const { erasure } = result;
  // Recorded after the fact (unlike an export, which records before it acts): the erasure must
  // happen even when the queue is down, and its row above already says it happened.
  await recordApiAction(services, {
    orgId: org.id,
    actor: input.requester,
    client: input.client,
    event: {
      type: "org.audit_log.erase",
      target: orgTarget(org),
      data: { erasureId: erasure.id, pseudonym: erasure.pseudonym, entries: erasure.entries },
    },
  }).catch((error: Error) => {
    services.logger.error("erasure not recorded in the log", {
      erasureId: erasure.id,
      error: error.message,
    });
  });
  return erasure;
}
