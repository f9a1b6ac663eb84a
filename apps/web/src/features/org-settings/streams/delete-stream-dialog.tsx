import type { LogStream } from "@auditlog/events";
import { ConfirmDialog } from "../../../components/confirm-dialog.tsx";
import { useDeleteStream } from "./stream-queries.ts";

/** Deleting stops the deliveries for good (a new stream starts over): asked for, and recorded. */
export function DeleteStreamDialog({
  orgSlug,
  stream,
  onClose,
}: {
  orgSlug: string;
  stream: LogStream;
  onClose: () => void;
}) {
  const remove = useDeleteStream(orgSlug);
  return (
    <ConfirmDialog
      title="Delete stream"
      question={
        <>
          Delete <strong>{stream.name}</strong>? Nothing more is sent to it; what was delivered
          stays where it is. Pause it instead to stop for a while and resume where it stopped.
        </>
      }
      confirmLabel="Delete stream"
      pendingLabel="Deleting…"
      pending={remove.isPending}
      error={remove.error}
      onConfirm={() => remove.mutate(stream.id, { onSuccess: onClose })}
      onClose={onClose}
    />
  );
}
