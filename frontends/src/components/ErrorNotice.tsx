import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { problemOf } from "../lib/errors";
import { useSession } from "../lib/session";

/** A failed request, told in the user's language: expired, refused, conflict, limit, down. */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const problem = problemOf(error);
  const expired = problem.kind === "expired";
  const { markExpired } = session;
  useEffect(() => {
    if (expired) markExpired();
  }, [expired, markExpired]);
  // The page's one expired-session notice (in the Shell) offers to sign in again.
  if (problem.kind === "expired") return null;
  let text: string;
  switch (problem.kind) {
    case "forbidden":
      text = t("error.forbidden");
      break;
    case "notFound":
      text = t("error.not_found");
      break;
    case "conflict":
      text = problem.currentState
        ? t("error.conflict", { state: t(`state.${problem.currentState}`) })
        : t("error.conflict_unknown");
      break;
    case "rateLimited":
      text = problem.retryAfterS
        ? t("error.rate_limited_after", { seconds: problem.retryAfterS })
        : t("error.rate_limited");
      break;
    case "unavailable":
      text = t("error.unavailable");
      break;
    case "invalid":
      text = t("error.invalid", { detail: problem.detail });
      break;
    case "unknown":
      text = t("error.unknown", { detail: problem.detail });
      break;
  }
  return (
    <div role="alert" className={`notice error problem-${problem.kind}`}>
      <p>{text}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("error.retry")}
        </button>
      )}
    </div>
  );
}
