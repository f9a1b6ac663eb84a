import type { LogStream } from "@auditlog/events";
import { errorMessage } from "../../../api/client.ts";
import { Modal } from "../../../components/modal.tsx";
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
    <Modal
      title="Delete stream"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={remove.isPending}
            onClick={() => remove.mutate(stream.id, { onSuccess: onClose })}
          >
            {remove.isPending ? "Deleting…" : "Delete stream"}
          </button>
        </>
      }
    >
      <p>
        Delete <strong>{stream.name}</strong>? Nothing more is sent to it; what was delivered stays
        where it is. Pause it instead to stop for a while and resume where it stopped.
      </p>
      {remove.isError ? (
        <p className="field-error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
    </Modal>
  );
}
