/** The smallest router the three apps need: paths under their base, history API. */
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  listeners.forEach((listener) => listener());
  document.getElementById("main")?.focus();
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** ``/hpa/transfers/tr-1`` under ``/hpa`` → ``["transfers", "tr-1"]``. */
export function segments(path: string, base: string): string[] {
  const rest = path.startsWith(base) ? path.slice(base.length) : path;
  return rest.split("/").filter(Boolean).map(decodeURIComponent);
}
