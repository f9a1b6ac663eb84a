import { type ReactNode, useEffect, useId, useLayoutEffect, useRef, useState } from "react";

interface PopoverProps {
  /** The trigger's content; the trigger is a button that toggles the panel. */
  label: ReactNode;
  /** Accessible name of the trigger when its content is not enough (e.g. an icon). */
  ariaLabel?: string;
  buttonClassName?: string;
  /** The panel's accessible name. */
  panelLabel: string;
  align?: "start" | "end";
  /** Open from the first render: the table mounts a row's menu only when its ⋯ is clicked. */
  initiallyOpen?: boolean;
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
  initiallyOpen = false,
  children,
}: PopoverProps) {
  const [open, setOpen] = useState(initiallyOpen);
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
  useLayoutEffect(() => keepInViewport(ref.current), []);
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

/** Space kept between a popover and the edges of the window. */
const viewportMargin = 8;

/**
 * Shifts the panel sideways so it stays inside the window (a bell near the right edge of a
 * phone would otherwise open its panel past the left edge), and caps its height to the space
 * below it in the window and in the scrolling area it is in (the panel scrolls beyond that);
 * again whenever the window or the panel changes size. Runs before paint, so the panel never
 * shows clipped first.
 */
function keepInViewport(element: HTMLElement | null): (() => void) | undefined {
  if (!element) return;
  const place = () => {
    element.style.translate = "";
    element.style.maxWidth = `${document.documentElement.clientWidth - 2 * viewportMargin}px`;
    let bottom = window.innerHeight;
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowY !== "visible") {
        bottom = Math.min(bottom, parent.getBoundingClientRect().bottom);
      }
    }
    const top = element.getBoundingClientRect().top;
    element.style.maxHeight = `${Math.max(160, Math.floor(bottom - top - viewportMargin))}px`;
    element.style.overflowY = "auto";
    const rect = element.getBoundingClientRect();
    const right = document.documentElement.clientWidth - viewportMargin;
    let shift = 0;
    if (rect.right > right) shift = right - rect.right;
    if (rect.left + shift < viewportMargin) shift = viewportMargin - rect.left;
    element.style.translate = shift ? `${Math.round(shift)}px 0` : "";
  };
  place();
  window.addEventListener("resize", place);
  const observer = typeof ResizeObserver === "function" ? new ResizeObserver(place) : null;
  observer?.observe(element);
  return () => {
    window.removeEventListener("resize", place);
    observer?.disconnect();
  };
}
