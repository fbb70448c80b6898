import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Action, TransferDetail } from "../lib/api";
import { useSession } from "../lib/session";
import { actionButtons, isFinal } from "../lib/states";
import { ErrorNotice } from "./ErrorNotice";
import { formatTime, HistoryTable } from "./HistoryTable";
import { StateBadge, StateSentence } from "./StateBadge";

const SAFETY_NET_MS = 60_000;

/** One transfer, live: its facts, what the caller may do now, and its whole history. */
export function TransferPanel({ transferId }: { transferId: string }) {
  const { t } = useTranslation();
  const { api } = useSession();
  const transfer = useQuery({
    queryKey: ["transfer", transferId],
    queryFn: () => api.transfer(transferId),
    // A request just sent is on its way to the ledger: a 404 becomes the transfer shortly.
    retry: (count, error) => "status" in error && error.status === 404 && count < 20,
    retryDelay: 500,
    // Changes arrive over the socket; this slow re-read only bounds how long a change the
    // socket never carried (a notifier that was not yet following) can stay unseen.
    refetchInterval: (query) => (query.state.data && !isFinal(query.state.data.state) ? SAFETY_NET_MS : false),
  });
  if (transfer.isPending) return <p role="status">{t("transfer.pending_ledger")}</p>;
  if (transfer.isError) return <ErrorNotice error={transfer.error} onRetry={() => void transfer.refetch()} />;
  return <TransferBody transfer={transfer.data} />;
}

function TransferBody({ transfer }: { transfer: TransferDetail }) {
  const { t, i18n } = useTranslation();
  const { profile } = useSession();
  return (
    <article aria-labelledby="transfer-title" className="transfer">
      <h1 id="transfer-title">{t("transfer.title", { id: transfer.transfer_id.slice(0, 11) })}</h1>
      <p className="current-state" aria-live="polite">
        <span className="visually-hidden">{t("transfer.state")}: </span>
        <StateBadge state={transfer.state} role={profile.role} />
      </p>
      <StateSentence state={transfer.state} role={profile.role} />
      <dl className="facts">
        <dt>{t("transfer.requesting_org")}</dt>
        <dd>{transfer.requesting_org}</dd>
        <dt>{t("transfer.source_org")}</dt>
        <dd>{transfer.source_org}</dd>
        <dt>{t("transfer.emergency")}</dt>
        <dd>{transfer.emergency ? t("transfer.yes") : t("transfer.no")}</dd>
        <dt>{t("transfer.reason")}</dt>
        <dd>{t(`purpose.${transfer.purpose}`, { defaultValue: transfer.purpose })}</dd>
        {transfer.note && (
          <>
            <dt>{t("transfer.note")}</dt>
            <dd>{transfer.note}</dd>
          </>
        )}
        {transfer.legal_basis && (
          <>
            <dt>{t("transfer.legal_basis")}</dt>
            <dd>{transfer.legal_basis}</dd>
          </>
        )}
        {transfer.consent_deadline && transfer.state === "RISK_ACCEPTED" && (
          <>
            <dt>{t("transfer.consent_deadline")}</dt>
            <dd>{formatTime(transfer.consent_deadline, i18n.language)}</dd>
          </>
        )}
        <dt>{t("transfer.updated")}</dt>
        <dd>
          {formatTime(transfer.updated_at, i18n.language)} ·{" "}
          <span className="mono">
            {t("transfer.ledger", { tx: transfer.last_tx_id.slice(0, 12), block: transfer.last_block })}
          </span>
        </dd>
      </dl>
      {transfer.last_rejection && (
        <p className="notice warning">{t("transfer.last_rejection", { reason: transfer.last_rejection.reason })}</p>
      )}
      <ActionBar transfer={transfer} />
      <HistoryTable history={transfer.history ?? []} />
    </article>
  );
}

function ActionBar({ transfer }: { transfer: TransferDetail }) {
  const { t } = useTranslation();
  const { api } = useSession();
  const queries = useQueryClient();
  // The state an action was sent from: its buttons stay disabled until the ledger moves it.
  const [sentFrom, setSentFrom] = useState<string | null>(null);
  const act = useMutation({
    mutationFn: (action: Action) => api.act(transfer.transfer_id, action),
    onSuccess: () => setSentFrom(transfer.last_tx_id),
    onError: () => void queries.invalidateQueries({ queryKey: ["transfer", transfer.transfer_id] }),
  });
  const buttons = actionButtons(transfer.actions);
  const waiting = sentFrom === transfer.last_tx_id;
  return (
    <section aria-labelledby="actions-title" className="actions">
      <h2 id="actions-title">{t("transfer.actions")}</h2>
      {buttons.length === 0 ? (
        <p>{t("action.none")}</p>
      ) : (
        <div className="button-row">
          {buttons.map((button) => (
            <button
              key={button.action}
              type="button"
              className={button.destructive ? "danger" : "primary"}
              disabled={act.isPending || waiting}
              onClick={() => act.mutate(button.action)}
            >
              {t(button.labelKey)}
            </button>
          ))}
        </div>
      )}
      {waiting && <p role="status">{t("action.sent")}</p>}
      {act.isError && <ErrorNotice error={act.error} />}
    </section>
  );
}
