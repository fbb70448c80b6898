import { StrictMode, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { useTranslation } from "react-i18next";
import type { Role } from "../lib/api";
import type { AppName } from "../lib/auth";
import { setupI18n } from "../lib/i18n";
import { SessionRoot } from "../lib/session";
import "../styles.css";

function Welcome({ app }: { app: AppName }) {
  const { t } = useTranslation();
  return <p>{t(`auth.welcome_${app}`)}</p>;
}

/** Starts one of the three applications: i18n, sign-in, then its pages. */
export function start(app: AppName, role: Role | Role[], pages: ReactNode): void {
  setupI18n();
  const root = document.getElementById("root");
  if (root === null) throw new Error("the page has no #root");
  createRoot(root).render(
    <StrictMode>
      <SessionRoot app={app} role={role} welcome={<Welcome app={app} />}>
        {pages}
      </SessionRoot>
    </StrictMode>,
  );
}
