/**
 * Keyboard-first boxes (the studio's pair and ranked-list boxes): keys act anywhere inside the box,
 * and with nothing focused while the box is on screen; in a text field they type, and Escape
 * returns to the box.
 */

/** True for a target whose keys are text (inputs, text areas, selects, contenteditable). */
export const editable = (t: EventTarget | null): boolean =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

export interface KeyBox {
  /** The box's keydown handler. */
  onKey(e: KeyboardEvent): void;
  /** Listens on the window for keys pressed with nothing focused while the box is on screen; returns the remover (for onMount). */
  listenWhenIdle(): () => void;
}

export function keyBox(box: () => HTMLElement | undefined, actionOf: (e: KeyboardEvent) => (() => unknown) | null): KeyBox {
  function onKey(e: KeyboardEvent): void {
    if (editable(e.target)) {
      if (e.key === 'Escape') {
        e.preventDefault();
        box()?.focus();
      }
      return;
    }
    const act = actionOf(e);
    if (!act) return;
    e.preventDefault();
    void act();
  }
  function listenWhenIdle(): () => void {
    const global = (e: KeyboardEvent) => {
      const b = box();
      if (b?.contains(e.target as Node) || (document.activeElement && document.activeElement !== document.body)) return;
      const r = b?.getBoundingClientRect();
      if (!r || r.bottom < 0 || r.top > innerHeight) return;
      onKey(e);
    };
    addEventListener('keydown', global);
    return () => removeEventListener('keydown', global);
  }
  return { onKey, listenWhenIdle };
}
