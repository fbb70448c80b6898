/** The request form's draft and the REST body it makes (pure). */
import type { CreateTransferRequest } from "../lib/api";

/** HL7 v3 PurposeOfUse codes a professional asking for records may give. */
export const PURPOSES = ["TREAT", "ETREAT", "COC"] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface RequestDraft {
  patientId: string;
  sourceOrg: string;
  purpose: Purpose;
  emergency: boolean;
  justification: string;
  /** The idempotency key of this draft once it was first sent. */
  key: string;
}

/**
 * The API's ``reason`` carries the purpose of use, and in an emergency its justification:
 * an emergency is always ETREAT and never goes without a justification.
 */
export function requestBody(draft: RequestDraft): CreateTransferRequest {
  const reason = draft.emergency ? `ETREAT: ${draft.justification.trim()}` : draft.purpose;
  return {
    patient_id: draft.patientId.trim(),
    source_org: draft.sourceOrg.trim(),
    emergency: draft.emergency,
    reason,
  };
}
