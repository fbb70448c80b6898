import { useTranslation } from "react-i18next";
import { Link } from "../components/Link";
import type { TransferUpdate } from "../lib/live";

/** What changed while the app was open, and what was missed while it was closed. */
export function Updates({ live, missed }: { live: TransferUpdate[]; missed: TransferUpdate[] }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="updates-title" className="updates">
      <h2 id="updates-title">{t("pa.updates")}</h2>
      <div aria-live="polite">
        {live.length === 0 && missed.length === 0 && <p>{t("pa.no_updates")}</p>}
        <UpdateList updates={live} />
        {missed.length > 0 && (
          <>
            <h3>{t("pa.missed")}</h3>
            <UpdateList updates={missed} />
          </>
        )}
      </div>
    </section>
  );
}

function UpdateList({ updates }: { updates: TransferUpdate[] }) {
  const { t } = useTranslation();
  if (updates.length === 0) return null;
  return (
    <ul className="update-list">
      {updates.slice(0, 20).map((update) => (
        <li key={update.tx_id}>
          <Link href={`/pa/transfers/${encodeURIComponent(update.transfer_id)}`}>{t(`state.${update.state}`)}</Link>
          : {update.message}
        </li>
      ))}
    </ul>
  );
}
