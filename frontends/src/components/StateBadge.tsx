import { useTranslation } from "react-i18next";
import type { Role, TransferState } from "../lib/api";
import { statusKey, toneOf } from "../lib/states";

export function StateBadge({ state, role }: { state: TransferState; role: Role }) {
  const { t } = useTranslation();
  return <span className={`badge tone-${toneOf(state, role)}`}>{t(`state.${state}`)}</span>;
}

export function StateSentence({ state, role }: { state: TransferState; role: Role }) {
  const { t } = useTranslation();
  return <p className="status-sentence">{t(statusKey(state, role))}</p>;
}
