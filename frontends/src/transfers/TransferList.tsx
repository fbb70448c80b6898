import { useInfiniteQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatTime } from "../components/HistoryTable";
import { Link } from "../components/Link";
import { StateBadge } from "../components/StateBadge";
import type { TransferState } from "../lib/api";
import { useSession } from "../lib/session";
import { TRANSFER_STATES } from "../lib/states";
import { useDraft } from "../lib/draft";

/** The organisation's transfers, newest change first, paged, filtered by state, live. */
export function TransferList() {
  const { t, i18n } = useTranslation();
  const { api, profile } = useSession();
  const [filter, setFilter] = useDraft<{ state: TransferState | "" }>("curex.hpa.filter", { state: "" });
  const pages = useInfiniteQuery({
    queryKey: ["transfers", filter.state],
    queryFn: ({ pageParam }) => api.transfers({ state: filter.state, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const items = pages.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <h1>{t("list.title", { org: profile.org })}</h1>
      <label className="filter">
        {t("list.filter_state")}{" "}
        <select value={filter.state} onChange={(e) => setFilter({ state: e.target.value as TransferState | "" })}>
          <option value="">{t("list.all_states")}</option>
          {TRANSFER_STATES.map((state) => (
            <option key={state} value={state}>
              {t(`state.${state}`)}
            </option>
          ))}
        </select>
      </label>
      {pages.isError && <ErrorNotice error={pages.error} onRetry={() => void pages.refetch()} />}
      {pages.isPending ? (
        <p role="status">{t("app.loading")}</p>
      ) : items.length === 0 ? (
        <p>{t("list.empty")}</p>
      ) : (
        <div className="table-scroll" tabIndex={0} role="region" aria-label={t("list.caption")}>
          <table>
            <caption>{t("list.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("transfer.id")}</th>
                <th scope="col">{t("transfer.state")}</th>
                <th scope="col">{t("transfer.requesting_org")}</th>
                <th scope="col">{t("transfer.source_org")}</th>
                <th scope="col">{t("transfer.emergency")}</th>
                <th scope="col">{t("transfer.updated")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.transfer_id}>
                  <td>
                    <Link href={`/hpa/transfers/${encodeURIComponent(item.transfer_id)}`} className="mono">
                      {item.transfer_id.slice(0, 11)}
                    </Link>
                  </td>
                  <td>
                    <StateBadge state={item.state} role={profile.role} />
                  </td>
                  <td>{item.requesting_org}</td>
                  <td>{item.source_org}</td>
                  <td>{item.emergency ? t("transfer.yes") : t("transfer.no")}</td>
                  <td>{formatTime(item.updated_at, i18n.language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {t("list.load_more")}
        </button>
      )}
    </>
  );
}
