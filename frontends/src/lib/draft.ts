/** A form's draft kept in this tab's storage, so signing in again loses nothing typed. */
import { useEffect, useState } from "react";

export function useDraft<T extends object>(key: string, initial: T): [T, (next: T) => void, () => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const stored = sessionStorage.getItem(key);
      return stored ? { ...initial, ...(JSON.parse(stored) as Partial<T>) } : initial;
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    sessionStorage.setItem(key, JSON.stringify(value));
  }, [key, value]);
  const clear = () => {
    sessionStorage.removeItem(key);
    setValue(initial);
  };
  return [value, setValue, clear];
}
