import { useInfiniteQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatTime } from "../components/HistoryTable";
import { Link } from "../components/Link";
import { StateBadge, StateSentence } from "../components/StateBadge";
import type { TransferSummary } from "../lib/api";
import { useSession } from "../lib/session";

/** The patient's transfers as cards: who asks, in an emergency or not, and where it stands. */
export function MyTransfers() {
  const { t } = useTranslation();
  const { api } = useSession();
  const pages = useInfiniteQuery({
    queryKey: ["transfers", "mine"],
    queryFn: ({ pageParam }) => api.transfers({ cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const items = pages.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="mine-title">
      <h1 id="mine-title">{t("nav.my_transfers")}</h1>
      {pages.isError && <ErrorNotice error={pages.error} onRetry={() => void pages.refetch()} />}
      {pages.isPending ? (
        <p role="status">{t("app.loading")}</p>
      ) : items.length === 0 ? (
        <p>{t("pa.empty")}</p>
      ) : (
        <ul className="cards">
          {items.map((item) => (
            <TransferCard key={item.transfer_id} item={item} />
          ))}
        </ul>
      )}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()}>
          {t("list.load_more")}
        </button>
      )}
    </section>
  );
}

function TransferCard({ item }: { item: TransferSummary }) {
  const { t, i18n } = useTranslation();
  const { profile } = useSession();
  const titleId = `card-${item.transfer_id}`;
  return (
    <li className={`card${item.state === "RISK_ACCEPTED" ? " needs-you" : ""}`} aria-labelledby={titleId}>
      <h2 id={titleId}>{t("pa.asks", { org: item.requesting_org })}</h2>
      <p>
        <StateBadge state={item.state} role={profile.role} />{" "}
        {item.emergency && <span className="badge tone-attention">{t("pa.emergency_tag")}</span>}
      </p>
      <StateSentence state={item.state} role={profile.role} />
      <p className="muted">
        <span className="mono">{item.transfer_id.slice(0, 11)}</span> · {formatTime(item.updated_at, i18n.language)}
      </p>
      <Link href={`/pa/transfers/${encodeURIComponent(item.transfer_id)}`} aria-describedby={titleId}>
        {t("pa.open")}
      </Link>
    </li>
  );
}
