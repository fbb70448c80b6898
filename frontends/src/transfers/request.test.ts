import { describe, expect, it } from "vitest";
import { requestBody, type RequestDraft } from "./request";

const draft: RequestDraft = { patientId: " ES-1000001 ", sourceOrg: "ES-SERMAS", purpose: "COC", emergency: false, justification: "", key: "" };

describe("the request body", () => {
  it("carries the purpose of use as the reason", () => {
    expect(requestBody(draft)).toEqual({ patient_id: "ES-1000001", source_org: "ES-SERMAS", emergency: false, reason: "COC" });
  });

  it("is always ETREAT with its justification in an emergency", () => {
    const body = requestBody({ ...draft, emergency: true, justification: " unconscious " });
    expect(body.emergency).toBe(true);
    expect(body.reason).toBe("ETREAT: unconscious");
  });
});
