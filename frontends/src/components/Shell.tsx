import { useEffect, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { Language } from "../lib/api";
import { LANGUAGES } from "../lib/i18n";
import type { LiveStatus } from "../lib/live";
import { ExpiredNotice, useSession } from "../lib/session";
import { Link } from "./Link";

export interface NavItem {
  href: string;
  labelKey: string;
  current: boolean;
}

/** The frame of every signed-in page: title, navigation, language, live status, sign-out. */
export function Shell({ nav, live, children }: { nav: NavItem[]; live?: LiveStatus; children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const session = useSession();
  useEffect(() => {
    document.title = t(`app.${session.app}`);
  }, [t, session.app, i18n.language]);
  return (
    <>
      <a className="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header className="app-header">
        <p className="app-title">{t(`app.${session.app}`)}</p>
        <nav aria-label={t("nav.label")}>
          <ul>
            {nav.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={item.current ? "page" : undefined}>
                  {t(item.labelKey)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-tools">
          <LanguagePicker />
          {live && (
            <span role="status" className={`live live-${live}`}>
              {t(`live.${live}`)}
            </span>
          )}
          <span className="who">{t("auth.signed_in_as", { name: session.profile.username })}</span>
          <button type="button" onClick={session.signOut}>
            {t("auth.sign_out")}
          </button>
        </div>
      </header>
      {session.expired && (
        <div className="page">
          <ExpiredNotice onSignIn={session.signInAgain} />
        </div>
      )}
      <main id="main" tabIndex={-1} className="page">
        {children}
      </main>
    </>
  );
}

export function LanguagePicker() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  return (
    <label className="language">
      {t("lang.label")}{" "}
      <select
        value={i18n.language}
        onChange={(event) => void session.setLanguage(event.target.value as Language).catch(() => undefined)}
      >
        {LANGUAGES.map((language) => (
          <option key={language} value={language} lang={language}>
            {t(`lang.${language}`)}
          </option>
        ))}
      </select>
    </label>
  );
}
