import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../components/ErrorNotice";
import { LanguagePicker } from "../components/Shell";
import { ApiError } from "../lib/api";
import { useSession } from "../lib/session";

/** Who the user is, their language, and a password change. */
export function ProfilePage() {
  const { t } = useTranslation();
  const { profile } = useSession();
  return (
    <>
      <h1>{t("profile.title")}</h1>
      <dl className="facts">
        <dt>{t("profile.username")}</dt>
        <dd>{profile.username}</dd>
        <dt>{t("profile.org")}</dt>
        <dd>{profile.org}</dd>
        <dt>{t("profile.role")}</dt>
        <dd>{t(`role.${profile.role}`)}</dd>
      </dl>
      <LanguagePicker />
      <PasswordForm />
    </>
  );
}

function PasswordForm() {
  const { t } = useTranslation();
  const { api } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: () => api.changePassword(current, next),
    onSuccess: () => {
      setCurrent("");
      setNext("");
      setAgain("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setMismatch(next !== again);
    if (next === again) change.mutate();
  };
  const wrongCurrent = change.error instanceof ApiError && change.error.status === 403;
  return (
    <form onSubmit={submit} className="form" aria-labelledby="password-title">
      <h2 id="password-title">{t("profile.password_title")}</h2>
      <label>
        {t("profile.current_password")}
        <input type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label>
        {t("profile.new_password")}
        <input type="password" autoComplete="new-password" required minLength={12} value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <label>
        {t("profile.confirm_password")}
        <input type="password" autoComplete="new-password" required minLength={12} value={again} onChange={(e) => setAgain(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={change.isPending}>
        {t("profile.change")}
      </button>
      {mismatch && <p role="alert">{t("profile.mismatch")}</p>}
      {change.isSuccess && <p role="status">{t("profile.changed")}</p>}
      {wrongCurrent ? <p role="alert">{t("profile.wrong_current")}</p> : change.isError && <ErrorNotice error={change.error} />}
    </form>
  );
}
