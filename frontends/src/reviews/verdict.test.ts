import { describe, expect, it } from "vitest";
import { REASONS, verdictBody } from "./verdict";

describe("a verdict's body", () => {
  it("keeps a reason that fits the verdict", () => {
    expect(verdictBody("unjustified", "NOT_AN_EMERGENCY")).toEqual({ verdict: "unjustified", reason: "NOT_AN_EMERGENCY" });
  });

  it("never pairs a verdict with a reason of the other verdict", () => {
    expect(verdictBody("justified", "NOT_AN_EMERGENCY").reason).toBe(REASONS.justified[0]);
  });
});
