import { describe, expect, it } from "vitest";
import en from "../locales/en.json";
import type { Action, Role, TransferState } from "./api";
import { actionButtons, isFinal, statusKey, toneOf, TRANSFER_STATES } from "./states";

const lookup = (key: string): unknown => key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], en);

describe("the state shown per transfer state and role", () => {
  it("tells a patient awaiting their decision that it waits for them", () => {
    expect(lookup(statusKey("RISK_ACCEPTED", "patient"))).toBe("Waiting for your decision.");
    expect(toneOf("RISK_ACCEPTED", "patient")).toBe("attention");
  });

  it("tells a professional in the same state that it waits for the patient", () => {
    expect(lookup(statusKey("RISK_ACCEPTED", "health_professional"))).toBe("Waiting for the patient's consent.");
    expect(toneOf("RISK_ACCEPTED", "health_professional")).toBe("waiting");
  });

  it.each<[TransferState, Role, string]>([
    ["EMERGENCY_BYPASS", "patient", "Emergency: your records may be shared without your consent. This will be reviewed."],
    ["CONSENT_REVOKED", "patient", "You withdrew your consent. Nothing will be sent."],
    ["CONSENT_REVOKED", "health_professional", "The patient revoked consent."],
    ["DATA_TRANSFERRED", "health_professional", "Records sent: the requesting organisation confirms receipt."],
  ])("%s for a %s reads “%s”", (state, role, sentence) => {
    expect(lookup(statusKey(state, role))).toBe(sentence);
  });

  it("has a sentence for every state for each audience", () => {
    for (const state of TRANSFER_STATES) {
      for (const role of ["patient", "health_professional"] as const) {
        expect(typeof lookup(statusKey(state, role)), `${state} for ${role}`).toBe("string");
      }
    }
  });

  it("shows a closed transfer as done and every other final state as stopped", () => {
    expect(toneOf("CLOSED", "patient")).toBe("done");
    for (const state of ["RISK_REJECTED", "PATIENT_REJECTED", "DATA_UNAVAILABLE", "CONSENT_REVOKED", "CANCELLED", "EXPIRED"] as const) {
      expect(isFinal(state)).toBe(true);
      expect(toneOf(state, "health_professional")).toBe("stopped");
    }
    expect(isFinal("DATA_AVAILABLE")).toBe(false);
  });
});

describe("the buttons made of the server's allowed actions", () => {
  it("offers exactly the actions the server allows, constructive first", () => {
    const allowed: Action[] = ["revoke", "refuse_consent", "grant_consent"];
    expect(actionButtons(allowed).map((b) => b.action)).toEqual(["grant_consent", "refuse_consent", "revoke"]);
  });

  it("marks refusing, revoking and cancelling as destructive", () => {
    const buttons = actionButtons(["cancel", "close", "mark_received"]);
    expect(buttons.map((b) => [b.action, b.destructive])).toEqual([
      ["mark_received", false],
      ["close", false],
      ["cancel", true],
    ]);
  });

  it("offers nothing when the server allows nothing, and never a system action", () => {
    expect(actionButtons([])).toEqual([]);
    expect(actionButtons(["accept_risk", "declare_available", "expire"])).toEqual([]);
  });

  it("labels every button from the catalog", () => {
    for (const button of actionButtons(["grant_consent", "refuse_consent", "revoke", "mark_transferred", "mark_received", "close", "cancel"])) {
      expect(typeof lookup(button.labelKey)).toBe("string");
    }
  });
});
