import { useEffect, useRef } from "react";

/** Whether a key press belongs to what the user is typing in (so a shortcut must leave it be). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

/**
 * Single-key shortcuts on the whole document (`/`, `j`, `k`): ignored while typing in a field,
 * with a modifier held (the browser's and the system's own shortcuts), or when `enabled` is
 * false. A handler returns true when it used the key, which then does nothing else.
 */
export function useKeyShortcuts(
  handlers: Record<string, (event: KeyboardEvent) => boolean | undefined>,
  enabled = true,
): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    if (!enabled) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTypingTarget(event.target)) return;
      const handler = current.current[event.key];
      if (handler?.(event)) event.preventDefault();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [enabled]);
}
