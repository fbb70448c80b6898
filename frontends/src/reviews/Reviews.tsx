import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatTime } from "../components/HistoryTable";
import type { Review, ReviewList } from "../lib/api";
import { useSession } from "../lib/session";
import { REASONS, verdictBody, type ReviewReason, type Verdict } from "./verdict";

/** A data-protection officer's open reviews of emergency access, soonest due first, or the
 * one review of a transfer the officer looks up. */
export function Reviews() {
  const { t } = useTranslation();
  const { api } = useSession();
  const [draft, setDraft] = useState("");
  const [transferId, setTransferId] = useState<string | null>(null);
  const lookup = transferId ? `&transfer_id=${encodeURIComponent(transferId)}` : "";
  const pages = useInfiniteQuery({
    queryKey: ["reviews", "open", transferId],
    queryFn: ({ pageParam }) =>
      api.request<ReviewList>("GET", `/v1/reviews?status=open&limit=20${lookup}${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ""}`),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  if (pages.isPending) return <p role="status">{t("app.loading")}</p>;
  if (pages.isError) return <ErrorNotice error={pages.error} onRetry={() => void pages.refetch()} />;
  const items = pages.data.pages.flatMap((page) => page.items);
  return (
    <>
      <h1>{t("reviews.title")}</h1>
      <form
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setTransferId(draft.trim() || null);
        }}
      >
        <label>
          {t("reviews.find_label")}
          <input value={draft} onChange={(e) => setDraft(e.target.value)} maxLength={64} />
        </label>
        <button type="submit">{t("reviews.find")}</button>
        {transferId && (
          <button
            type="button"
            onClick={() => {
              setDraft("");
              setTransferId(null);
            }}
          >
            {t("reviews.show_all")}
          </button>
        )}
      </form>
      {items.length === 0 ? (
        <p>{t("reviews.empty")}</p>
      ) : (
        <ul className="reviews">
          {items.map((review) => (
            <ReviewItem key={review.review_id} review={review} />
          ))}
        </ul>
      )}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {t("list.load_more")}
        </button>
      )}
    </>
  );
}

function ReviewItem({ review }: { review: Review }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const queries = useQueryClient();
  const [verdict, setVerdict] = useState<Verdict>("justified");
  const [reason, setReason] = useState<ReviewReason | null>(null);
  const record = useMutation({
    mutationFn: () => api.request("POST", `/v1/reviews/${review.review_id}`, verdictBody(verdict, reason)),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["reviews"] }),
  });
  const titleId = `review-${review.review_id}`;
  return (
    <li className="panel">
      <section aria-labelledby={titleId}>
        <h2 id={titleId}>{t("reviews.item", { id: review.transfer_id.slice(0, 11), org: review.requesting_org })}</h2>
        <dl className="facts">
          <dt>{t("reviews.requested_by")}</dt>
          <dd>{review.requested_by ?? "—"}</dd>
          <dt>{t("transfer.reason")}</dt>
          <dd>{t(`purpose.${review.purpose}`, { defaultValue: review.purpose })}</dd>
          <dt>{t("transfer.note")}</dt>
          <dd>{review.note ?? "—"}</dd>
          <dt>{t("reviews.deadline")}</dt>
          <dd>
            {review.deadline ? formatTime(review.deadline, i18n.language) : "—"}
            {review.overdue && <strong className="notice warning"> {t("reviews.overdue")}</strong>}
          </dd>
        </dl>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            record.mutate();
          }}
        >
          <label>
            {t("reviews.verdict")}
            <select value={verdict} onChange={(e) => setVerdict(e.target.value as Verdict)}>
              {(Object.keys(REASONS) as Verdict[]).map((option) => (
                <option key={option} value={option}>
                  {t(`reviews.verdicts.${option}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("reviews.reason")}
            <select value={verdictBody(verdict, reason).reason} onChange={(e) => setReason(e.target.value as ReviewReason)}>
              {REASONS[verdict].map((option) => (
                <option key={option} value={option}>
                  {t(`reviews.reasons.${option}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={record.isPending || record.isSuccess}>
            {t("reviews.record")}
          </button>
        </form>
        {record.isSuccess && <p role="status">{t("reviews.recorded")}</p>}
        {record.isError && <ErrorNotice error={record.error} />}
      </section>
    </li>
  );
}
