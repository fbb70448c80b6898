import { describe, expect, it } from "vitest";
import { requestBody, type RequestDraft } from "./request";

const draft: RequestDraft = { patientId: " ES-1000001 ", sourceOrg: "ES-SERMAS", purpose: "COC", emergency: false, justification: "", key: "" };

describe("the request body", () => {
  it("carries the coded purpose of use and no free text", () => {
    expect(requestBody(draft)).toEqual({ patient_id: "ES-1000001", source_org: "ES-SERMAS", emergency: false, purpose: "COC" });
  });

  it("is always ETREAT in an emergency, with the justification as a note", () => {
    const body = requestBody({ ...draft, emergency: true, justification: " unconscious " });
    expect(body.emergency).toBe(true);
    expect(body.purpose).toBe("ETREAT");
    expect(body.note).toBe("unconscious");
  });
});
