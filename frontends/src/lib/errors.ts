/** What a failed request means to the person using the page (pure). */
import { ApiError, UNREACHABLE, type TransferState } from "./api";

export type Problem =
  | { kind: "expired" }
  | { kind: "forbidden"; detail: string }
  | { kind: "notFound" }
  | { kind: "conflict"; currentState: TransferState | null }
  | { kind: "rateLimited"; retryAfterS: number | null }
  | { kind: "unavailable" }
  | { kind: "invalid"; detail: string }
  | { kind: "unknown"; detail: string };

export function problemOf(error: unknown): Problem {
  if (!(error instanceof ApiError)) return { kind: "unknown", detail: String(error) };
  switch (error.status) {
    case 401:
      return { kind: "expired" };
    case 403:
      return { kind: "forbidden", detail: error.detail };
    case 404:
      return { kind: "notFound" };
    case 409:
      return { kind: "conflict", currentState: error.currentState };
    case 413:
    case 422:
      return { kind: "invalid", detail: error.detail };
    case 429:
      return { kind: "rateLimited", retryAfterS: error.retryAfterS };
    case UNREACHABLE:
    case 502:
    case 503:
    case 504:
      return { kind: "unavailable" };
    default:
      return error.status >= 500 ? { kind: "unavailable" } : { kind: "unknown", detail: error.detail };
  }
}
