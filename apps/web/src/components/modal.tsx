import { type ReactNode, useId, useRef } from "react";
import { useFocusTrap } from "./use-focus-trap.ts";

interface ModalProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** A centred dialog, or a panel sliding in from the right (entry details, exports). */
  variant?: "dialog" | "drawer";
  /** Extra content in the title bar, before the close button. */
  actions?: ReactNode;
  footer?: ReactNode;
  className?: string;
  /** The id of the element that says what the dialog is about (a confirmation's question). */
  describedBy?: string;
}

/** A modal dialog: labelled by its title, focus kept inside, Escape or the backdrop closes it. */
export function Modal({
  title,
  onClose,
  children,
  variant = "dialog",
  actions,
  footer,
  className,
  describedBy,
}: ModalProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  useFocusTrap(ref, onClose);
  return (
    <div className={`backdrop backdrop-${variant}`}>
      <button
        type="button"
        className="backdrop-dismiss"
        aria-hidden="true"
        tabIndex={-1}
        onClick={onClose}
      />
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        tabIndex={-1}
        className={`modal modal-${variant} ${className ?? ""}`}
      >
        <header className="modal-header">
          <h2 id={titleId}>{title}</h2>
          <div className="modal-actions">
            {actions}
            <button
              type="button"
              className="icon-button"
              onClick={onClose}
              aria-label={`Close ${title}`}
            >
              <CloseIcon />
            </button>
          </div>
        </header>
        <div className="modal-body">{children}</div>
        {footer ? <footer className="modal-footer">{footer}</footer> : null}
      </div>
    </div>
  );
}

export function CloseIcon() {
  return (
    <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
      <path
        d="M5 5l10 10M15 5L5 15"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
      />
    </svg>
  );
}
