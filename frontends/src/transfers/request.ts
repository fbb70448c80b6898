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
 * The coded purpose of use goes to the ledger; an emergency is always ETREAT, and its
 * justification is a note the server keeps encrypted in its own database, never on the ledger.
 */
export function requestBody(draft: RequestDraft): CreateTransferRequest {
  const body: CreateTransferRequest = {
    patient_id: draft.patientId.trim(),
    source_org: draft.sourceOrg.trim(),
    emergency: draft.emergency,
    purpose: draft.emergency ? "ETREAT" : draft.purpose,
  };
  const justification = draft.justification.trim();
  return draft.emergency && justification ? { ...body, note: justification } : body;
}
