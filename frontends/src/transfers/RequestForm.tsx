import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../components/ErrorNotice";
import { useDraft } from "../lib/draft";
import { navigate } from "../lib/router";
import { useSession } from "../lib/session";
import { PURPOSES, requestBody, type RequestDraft } from "./request";

const EMPTY: RequestDraft = { patientId: "", sourceOrg: "", purpose: "TREAT", emergency: false, justification: "", key: "" };
const KNOWN_ORGS = ["ES-SERMAS", "SE-KI"];

/** A professional asks a patient's home organisation for their records. */
export function RequestForm() {
  const { t } = useTranslation();
  const { api } = useSession();
  const [draft, setDraft, clearDraft] = useDraft<RequestDraft>("curex.hpa.request-draft", EMPTY);
  const [missingJustification, setMissingJustification] = useState(false);
  const create = useMutation({
    mutationFn: (key: string) => api.create(requestBody(draft), key),
    onSuccess: (accepted) => {
      clearDraft();
      navigate(`/hpa/transfers/${encodeURIComponent(accepted.transfer_id)}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const justificationMissing = draft.emergency && draft.justification.trim() === "";
    setMissingJustification(justificationMissing);
    if (justificationMissing) return;
    // One key per draft: sending it again after signing in again creates one transfer.
    const key = draft.key || crypto.randomUUID();
    if (!draft.key) setDraft({ ...draft, key });
    create.mutate(key);
  };
  const update = (change: Partial<RequestDraft>) => setDraft({ ...draft, ...change });
  return (
    <form onSubmit={submit} className="form" aria-labelledby="request-title" noValidate>
      <h1 id="request-title">{t("request.title")}</h1>
      <label>
        {t("request.patient_id")}
        <input
          name="patient_id"
          required
          pattern="[A-Za-z0-9._\-]+"
          maxLength={64}
          autoComplete="off"
          value={draft.patientId}
          onChange={(e) => update({ patientId: e.target.value })}
        />
      </label>
      <label>
        {t("request.source_org")}
        <input
          name="source_org"
          required
          list="known-orgs"
          autoComplete="off"
          value={draft.sourceOrg}
          onChange={(e) => update({ sourceOrg: e.target.value.toUpperCase() })}
        />
      </label>
      <datalist id="known-orgs">
        {KNOWN_ORGS.map((org) => (
          <option key={org} value={org} />
        ))}
      </datalist>
      <label>
        {t("request.purpose")}
        <select value={draft.emergency ? "ETREAT" : draft.purpose} disabled={draft.emergency} onChange={(e) => update({ purpose: e.target.value as RequestDraft["purpose"] })}>
          {PURPOSES.map((purpose) => (
            <option key={purpose} value={purpose}>
              {t(`purpose.${purpose}`)}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.emergency} onChange={(e) => update({ emergency: e.target.checked })} />
        {t("request.emergency")}
      </label>
      {draft.emergency && (
        <label>
          {t("request.justification")}
          <textarea
            required
            maxLength={180}
            aria-describedby="justification-help"
            aria-invalid={missingJustification}
            value={draft.justification}
            onChange={(e) => update({ justification: e.target.value })}
          />
          <span id="justification-help" className="help">
            {t("request.justification_help")}
          </span>
        </label>
      )}
      {missingJustification && <p role="alert">{t("request.justification_required")}</p>}
      <button type="submit" className="primary" disabled={create.isPending}>
        {t("request.submit")}
      </button>
      {create.isError && <ErrorNotice error={create.error} />}
    </form>
  );
}
