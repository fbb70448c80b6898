/** What a transfer's state means on screen, per role, and which buttons its actions make (pure). */
import type { Action, Role, TransferState } from "./api";

export const TRANSFER_STATES = [
  "INITIALISED",
  "RISK_ACCEPTED",
  "RISK_REJECTED",
  "PATIENT_ACCEPTED",
  "PATIENT_REJECTED",
  "EMERGENCY_BYPASS",
  "DATA_AVAILABLE",
  "DATA_UNAVAILABLE",
  "DATA_TRANSFERRED",
  "DATA_RECEIVED",
  "CLOSED",
  "CONSENT_REVOKED",
  "CANCELLED",
  "EXPIRED",
] as const satisfies readonly TransferState[];

// Fails to compile when the server's enum gains a state this list lacks.
type Missing = Exclude<TransferState, (typeof TRANSFER_STATES)[number]>;
export const everyStateListed: [Missing] extends [never] ? true : Missing = true;

const FINAL: ReadonlySet<TransferState> = new Set([
  "RISK_REJECTED",
  "PATIENT_REJECTED",
  "DATA_UNAVAILABLE",
  "CLOSED",
  "CONSENT_REVOKED",
  "CANCELLED",
  "EXPIRED",
]);

export type Tone = "done" | "stopped" | "waiting" | "progress" | "attention";

export function isFinal(state: TransferState): boolean {
  return FINAL.has(state);
}

/** How a state looks: a finished transfer, a stopped one, or one that is still moving. */
export function toneOf(state: TransferState, role: Role): Tone {
  if (state === "CLOSED") return "done";
  if (isFinal(state)) return "stopped";
  if (state === "EMERGENCY_BYPASS") return "attention";
  if (state === "RISK_ACCEPTED" && role === "patient") return "attention";
  if (state === "INITIALISED" || state === "RISK_ACCEPTED") return "waiting";
  return "progress";
}

/** The i18n key of the sentence that tells this role what the state means for them. */
export function statusKey(state: TransferState, role: Role): string {
  const audience = role === "patient" ? "patient" : "professional";
  return `status.${audience}.${state}`;
}

export interface ActionButton {
  action: Action;
  labelKey: string;
  /** Refusing, revoking and cancelling stop a transfer for good. */
  destructive: boolean;
}

const ORDER: readonly Action[] = [
  "grant_consent",
  "mark_transferred",
  "mark_received",
  "close",
  "refuse_consent",
  "revoke",
  "cancel",
];
const DESTRUCTIVE: ReadonlySet<Action> = new Set(["refuse_consent", "revoke", "cancel"]);

/** The buttons for the actions the server says the caller may take now, in a fixed order. */
export function actionButtons(actions: readonly Action[]): ActionButton[] {
  return ORDER.filter((action) => actions.includes(action)).map((action) => ({
    action,
    labelKey: `action.${action}`,
    destructive: DESTRUCTIVE.has(action),
  }));
}
