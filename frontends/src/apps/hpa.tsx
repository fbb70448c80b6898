import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "../components/Link";
import { Shell } from "../components/Shell";
import { TransferPanel } from "../components/TransferPanel";
import { segments, usePath } from "../lib/router";
import { memorySeenStore, useLive } from "../lib/useLive";
import { ProfilePage } from "../profile";
import { RequestForm, TransferList } from "../transfers";
import { start } from "./common";

const BASE = "/hpa";

function HealthProfessionalApp() {
  const { t } = useTranslation();
  const [section, id] = segments(usePath(), BASE);
  const store = useMemo(memorySeenStore, []);
  const live = useLive(store, false);
  const nav = [
    { href: `${BASE}/`, labelKey: "nav.transfers", current: section === undefined || section === "transfers" },
    { href: `${BASE}/request`, labelKey: "nav.request", current: section === "request" },
    { href: `${BASE}/profile`, labelKey: "nav.profile", current: section === "profile" },
  ];
  return (
    <Shell nav={nav} live={live.status}>
      {section === "transfers" && id ? (
        <>
          <Link href={`${BASE}/`}>{t("transfer.back")}</Link>
          <TransferPanel transferId={id} />
        </>
      ) : section === "request" ? (
        <RequestForm />
      ) : section === "profile" ? (
        <ProfilePage />
      ) : (
        <TransferList />
      )}
    </Shell>
  );
}

start("hpa", "health_professional", <HealthProfessionalApp />);
