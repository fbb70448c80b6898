import { useTranslation } from "react-i18next";
import type { HistoryEntry } from "../lib/api";

export function formatTime(iso: string, language: string): string {
  return new Date(iso).toLocaleString(language, { dateStyle: "medium", timeStyle: "medium" });
}

/** Every transition of a transfer: when, from and to which state, by whom, where on the ledger. */
export function HistoryTable({ history }: { history: readonly HistoryEntry[] }) {
  const { t, i18n } = useTranslation();
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">{t("history.title")}</h2>
      <div className="table-scroll" tabIndex={0} role="region" aria-label={t("history.caption")}>
        <table>
          <caption>{t("history.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("history.at")}</th>
              <th scope="col">{t("history.change")}</th>
              <th scope="col">{t("history.actor")}</th>
              <th scope="col">{t("history.tx")}</th>
              <th scope="col">{t("history.block")}</th>
              <th scope="col">{t("history.basis")}</th>
            </tr>
          </thead>
          <tbody>
            {history.map((entry) => (
              <tr key={entry.tx_id}>
                <td>{formatTime(entry.at, i18n.language)}</td>
                <td>
                  {entry.from_state ? `${t(`state.${entry.from_state}`)} → ` : `${t("history.created")}: `}
                  {t(`state.${entry.to_state}`)}
                </td>
                <td>
                  {t(`role.${entry.actor.role}`)} · {entry.actor.org}
                  <br />
                  <span className="mono">{entry.actor.user_id}</span>
                </td>
                <td className="mono" title={entry.tx_id}>
                  {entry.tx_id.slice(0, 16)}…
                </td>
                <td>{entry.block_number}</td>
                <td>{entry.legal_basis ?? entry.reason ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
