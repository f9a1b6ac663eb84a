import { type ReactNode, useId } from "react";
import { errorMessage } from "../api/client.ts";
import { Modal } from "./modal.tsx";

/**
 * Asks before something that cannot be taken back (deleting a stream or an alert rule, revoking a viewer link):
 * a modal dialog (focus kept inside, Escape closes it) titled `title`, described by `question`,
 * with Cancel and a danger button that runs `onConfirm`; the refusal, if any, is shown under the
 * question so the dialog stays open and the user can cancel or try again.
 */
export function ConfirmDialog({
  title,
  question,
  confirmLabel,
  pendingLabel,
  pending,
  error,
  onConfirm,
  onClose,
}: {
  title: string;
  question: ReactNode;
  confirmLabel: string;
  /** The confirm button's text while the change is under way ("Deleting…"). */
  pendingLabel: string;
  pending: boolean;
  error: unknown;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const questionId = useId();
  return (
    <Modal
      title={title}
      onClose={onClose}
      describedBy={questionId}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={pending}
            onClick={onConfirm}
          >
            {pending ? pendingLabel : confirmLabel}
          </button>
        </>
      }
    >
      <p id={questionId}>{question}</p>
      {error ? (
        <p className="field-error" role="alert">
          {errorMessage(error)}
        </p>
      ) : null}
    </Modal>
  );
}
