import { describe, expect, it } from "vitest";
import { actionRequest, ApiClient, ApiError, UNREACHABLE } from "./api";
import { problemOf } from "./errors";

function answering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetcher = async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body === null ? null : JSON.stringify(body), { status, headers });
  };
  return { calls, client: new ApiClient(async () => "the-token", fetcher) };
}

describe("the API client", () => {
  it("sends the bearer token and the action's endpoint and body", async () => {
    const { calls, client } = answering(202, { transfer_id: "tr-1", status: "accepted" });
    await client.act("tr-1", "grant_consent");
    expect(calls[0]?.url).toBe("/v1/transfers/tr-1/consent");
    expect(calls[0]?.init.method).toBe("POST");
    expect((calls[0]?.init.headers as Record<string, string>).Authorization).toBe("Bearer the-token");
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ decision: "grant" });
  });

  it("reads the current state from a 409 problem", async () => {
    const { client } = answering(409, { detail: "not now", current_state: "CANCELLED" });
    const error = await client.act("tr-1", "cancel").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(problemOf(error)).toEqual({ kind: "conflict", currentState: "CANCELLED" });
  });

  it("reads Retry-After from a 429", async () => {
    const { client } = answering(429, { detail: "slow down" }, { "Retry-After": "30" });
    const error = await client.transfers({}).catch((e: unknown) => e);
    expect(problemOf(error)).toEqual({ kind: "rateLimited", retryAfterS: 30 });
  });

  it("turns a network failure into an unavailable service", async () => {
    const client = new ApiClient(async () => "t", async () => {
      throw new TypeError("Failed to fetch");
    });
    const error = await client.me().catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(UNREACHABLE);
    expect(problemOf(error)).toEqual({ kind: "unavailable" });
  });

  it("refuses to call without a token, as an expired session", async () => {
    const client = new ApiClient(async () => null);
    expect(problemOf(await client.me().catch((e: unknown) => e))).toEqual({ kind: "expired" });
  });

  it("sends the list's filter and cursor as query parameters", async () => {
    const { calls, client } = answering(200, { items: [], next_cursor: null });
    await client.transfers({ state: "DATA_AVAILABLE", cursor: "abc", limit: 5 });
    expect(calls[0]?.url).toBe("/v1/transfers?limit=5&state=DATA_AVAILABLE&cursor=abc");
  });

  it("keys a create so a repeat after signing in again takes effect once", async () => {
    const { calls, client } = answering(202, { transfer_id: "tr-2", status: "accepted" });
    await client.create({ patient_id: "ES-1", source_org: "ES-SERMAS", emergency: false, purpose: "TREAT" }, "key-1");
    expect((calls[0]?.init.headers as Record<string, string>)["Idempotency-Key"]).toBe("key-1");
  });
});

describe("what a failure means to the user", () => {
  it.each([
    [401, "expired"],
    [403, "forbidden"],
    [404, "notFound"],
    [422, "invalid"],
    [502, "unavailable"],
    [503, "unavailable"],
  ])("status %i is %s", (status, kind) => {
    expect(problemOf(new ApiError(status, "x")).kind).toBe(kind);
  });

  it("maps each person-facing action to its endpoint", () => {
    expect(actionRequest("refuse_consent")).toEqual({ path: "consent", body: { decision: "refuse" } });
    expect(actionRequest("mark_transferred")).toEqual({ path: "transferred" });
    expect(() => actionRequest("accept_risk")).toThrow();
  });
});
