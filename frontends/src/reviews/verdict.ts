/** The verdict form's choices (pure): each verdict with the coded reasons that fit it. */
import type { VerdictRequest } from "../lib/api";

export type Verdict = VerdictRequest["verdict"];
export type ReviewReason = VerdictRequest["reason"];

export const REASONS: Record<Verdict, ReviewReason[]> = {
  justified: ["VITAL_INTERESTS_AT_RISK", "PATIENT_UNABLE_TO_CONSENT", "CONSENT_NOT_OBTAINABLE_IN_TIME"],
  unjustified: ["NOT_AN_EMERGENCY", "CONSENT_WAS_OBTAINABLE", "ACCESS_EXCEEDED_NEED"],
};

/** The body for ``verdict``, keeping ``reason`` only if it fits the verdict. */
export function verdictBody(verdict: Verdict, reason: ReviewReason | null): VerdictRequest {
  const fitting = REASONS[verdict];
  return { verdict, reason: reason !== null && fitting.includes(reason) ? reason : fitting[0]! };
}
