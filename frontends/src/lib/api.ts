/** The typed REST client: shapes come from the server's OpenAPI (api-schema.d.ts). */
import type { components } from "./api-schema";

export type Schemas = components["schemas"];
export type TransferState = Schemas["TransferState"];
export type Action = Schemas["Action"];
export type Role = Schemas["Role"];
export type Language = Schemas["PreferencesPatch"]["language"];
export type TransferSummary = Schemas["TransferSummary"];
export type TransferDetail = Schemas["TransferDetail"];
export type HistoryEntry = Schemas["HistoryEntry"];
export type TransferPage = Schemas["TransferPage"];
export type Profile = Schemas["Profile"] & { notifications_url?: string | null };
export type CreateTransferRequest = Schemas["CreateTransferRequest"];
export type Accepted = Schemas["Accepted"];
export type Review = Schemas["Review"];
export type ReviewList = Schemas["ReviewList"];
export type VerdictRequest = Schemas["VerdictRequest"];

/** A refused or failed request, with what the server said about it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly currentState: TransferState | null = null,
    readonly retryAfterS: number | null = null,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

/** Status 0: the server could not be reached at all. */
export const UNREACHABLE = 0;

export type TokenSource = () => Promise<string | null>;

export interface Fetcher {
  (input: string, init: RequestInit): Promise<Response>;
}

export class ApiClient {
  constructor(
    private readonly token: TokenSource,
    private readonly fetcher: Fetcher = (input, init) => fetch(input, init),
    private readonly base = "",
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.token();
    if (token === null) throw new ApiError(401, "not signed in");
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetcher(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(UNREACHABLE, "the server could not be reached");
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  me(): Promise<Profile> {
    return this.request("GET", "/v1/me");
  }

  setLanguage(language: Language): Promise<Profile> {
    return this.request("PATCH", "/v1/me/preferences", { language });
  }

  changePassword(current: string, next: string): Promise<void> {
    return this.request("POST", "/v1/me/password", {
      current_password: current,
      new_password: next,
    });
  }

  transfers(query: { state?: TransferState | ""; cursor?: string | null; limit?: number }): Promise<TransferPage> {
    const params = new URLSearchParams({ limit: String(query.limit ?? 20) });
    if (query.state) params.set("state", query.state);
    if (query.cursor) params.set("cursor", query.cursor);
    return this.request("GET", `/v1/transfers?${params.toString()}`);
  }

  transfer(id: string): Promise<TransferDetail> {
    return this.request("GET", `/v1/transfers/${encodeURIComponent(id)}`);
  }

  create(body: CreateTransferRequest, idempotencyKey: string): Promise<Accepted> {
    return this.requestWithKey("POST", "/v1/transfers", body, idempotencyKey);
  }

  act(id: string, action: Action): Promise<Accepted> {
    const { path, body } = actionRequest(action);
    return this.request("POST", `/v1/transfers/${encodeURIComponent(id)}/${path}`, body);
  }

  private async requestWithKey<T>(method: string, path: string, body: unknown, key: string): Promise<T> {
    // Same request, same key: a retry after an expired session takes effect once.
    const keyed = new ApiClient(this.token, (input, init) =>
      this.fetcher(input, { ...init, headers: { ...(init.headers as Record<string, string>), "Idempotency-Key": key } }),
      this.base,
    );
    return keyed.request(method, path, body);
  }
}

/** The endpoint (and body) that takes each person-facing action. */
export function actionRequest(action: Action): { path: string; body?: unknown } {
  switch (action) {
    case "grant_consent":
      return { path: "consent", body: { decision: "grant" } };
    case "refuse_consent":
      return { path: "consent", body: { decision: "refuse" } };
    case "revoke":
      return { path: "revoke" };
    case "mark_transferred":
      return { path: "transferred" };
    case "mark_received":
      return { path: "received" };
    case "close":
      return { path: "close" };
    case "cancel":
      return { path: "cancel" };
    default:
      throw new Error(`${action} is not an action a person takes`);
  }
}

export async function errorFrom(response: Response): Promise<ApiError> {
  let detail = response.statusText;
  let currentState: TransferState | null = null;
  try {
    const problem = (await response.json()) as { detail?: unknown; current_state?: unknown };
    if (typeof problem.detail === "string") detail = problem.detail;
    if (typeof problem.current_state === "string") currentState = problem.current_state as TransferState;
  } catch {
    // Not a problem document (a proxy's error page): the status says enough.
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(response.status, detail, currentState, Number.isFinite(retry) && retry > 0 ? retry : null);
}
