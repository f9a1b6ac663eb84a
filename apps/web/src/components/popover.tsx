import { type ReactNode, useEffect, useId, useRef, useState } from "react";

interface PopoverProps {
  /** The trigger's content; the trigger is a button that toggles the panel. */
  label: ReactNode;
  /** Accessible name of the trigger when its content is not enough (e.g. an icon). */
  ariaLabel?: string;
  buttonClassName?: string;
  /** The panel's accessible name. */
  panelLabel: string;
  align?: "start" | "end";
  children: (close: () => void) => ReactNode;
}

/**
 * A button with a non-modal panel: Escape or a click elsewhere closes it and focus returns to
 * the button.
 */
export function Popover({
  label,
  ariaLabel,
  buttonClassName,
  panelLabel,
  align = "start",
  children,
}: PopoverProps) {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  const close = (restoreFocus = true) => {
    setOpen(false);
    if (restoreFocus) buttonRef.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  return (
    <div
      className="popover-root"
      ref={rootRef}
      onKeyDown={(event) => {
        if (event.key === "Escape" && open) {
          event.stopPropagation();
          close();
        }
      }}
    >
      <button
        ref={buttonRef}
        type="button"
        className={buttonClassName ?? "button"}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        aria-label={ariaLabel}
        onClick={() => setOpen((value) => !value)}
      >
        {label}
      </button>
      {open ? (
        <PopoverPanel id={panelId} label={panelLabel} align={align}>
          {children(() => close())}
        </PopoverPanel>
      ) : null}
    </div>
  );
}

function PopoverPanel(props: {
  id: string;
  label: string;
  align: "start" | "end";
  children: ReactNode;
}) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (element) (element.querySelector<HTMLElement>("[data-autofocus]") ?? element).focus();
  }, []);
  return (
    <section
      ref={ref}
      id={props.id}
      className={`popover popover-${props.align}`}
      aria-label={props.label}
      tabIndex={-1}
    >
      {props.children}
    </section>
  );
}
