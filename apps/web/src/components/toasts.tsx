import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";
import { CloseIcon } from "./modal.tsx";

export interface Toast {
  id: string;
  title: string;
  body?: string;
  tone?: "info" | "success" | "error";
  action?: { label: string; href: string; download?: boolean; onClick?: () => void };
  /** Dismissed by itself after this long; toasts with an action stay until dismissed. */
  durationMs?: number;
}

interface ToastApi {
  show: (toast: Omit<Toast, "id"> & { id?: string }) => void;
  dismiss: (id: string) => void;
}

const ToastContext = createContext<ToastApi>({ show: () => {}, dismiss: () => {} });

export function useToasts(): ToastApi {
  return useContext(ToastContext);
}

/**
 * Short-lived messages in the corner, announced politely to screen readers. A toast with an
 * action (a finished export's download) stays until dismissed: it may arrive while nobody looks.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback(
    (id: string) => setToasts((list) => list.filter((toast) => toast.id !== id)),
    [],
  );
  const show = useCallback<ToastApi["show"]>((toast) => {
    const id = toast.id ?? crypto.randomUUID();
    setToasts((list) => [...list.filter((item) => item.id !== id), { ...toast, id }].slice(-4));
  }, []);
  const api = useMemo(() => ({ show, dismiss }), [show, dismiss]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <section className="toasts" aria-label="Messages" aria-live="polite">
        {toasts.map((toast) => (
          <ToastItem key={toast.id} toast={toast} onDismiss={dismiss} />
        ))}
      </section>
    </ToastContext.Provider>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (id: string) => void }) {
  const duration = toast.durationMs ?? (toast.action ? undefined : 8000);
  useEffect(() => {
    if (duration === undefined) return;
    const timer = window.setTimeout(() => onDismiss(toast.id), duration);
    return () => window.clearTimeout(timer);
  }, [duration, onDismiss, toast.id]);
  const dismiss = onDismiss;
  return (
    <div className={`toast toast-${toast.tone ?? "info"}`} role="status">
      <div className="toast-text">
        <strong>{toast.title}</strong>
        {toast.body ? <span>{toast.body}</span> : null}
      </div>
      {toast.action ? (
        <a
          className="button button-primary button-small"
          href={toast.action.href}
          download={toast.action.download ? "" : undefined}
          onClick={() => {
            toast.action?.onClick?.();
            dismiss(toast.id);
          }}
        >
          {toast.action.label}
        </a>
      ) : null}
      <button
        type="button"
        className="icon-button"
        aria-label={`Dismiss: ${toast.title}`}
        onClick={() => dismiss(toast.id)}
      >
        <CloseIcon />
      </button>
    </div>
  );
}
