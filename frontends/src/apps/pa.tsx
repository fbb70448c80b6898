import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { MyTransfers, Updates } from "../consent";
import { Link } from "../components/Link";
import { Shell } from "../components/Shell";
import { TransferPanel } from "../components/TransferPanel";
import { segments, usePath } from "../lib/router";
import { useSession } from "../lib/session";
import { localSeenStore, useLive } from "../lib/useLive";
import { ProfilePage } from "../profile";
import { start } from "./common";

const BASE = "/pa";

function PatientApp() {
  const { t } = useTranslation();
  const { profile } = useSession();
  const [section, id] = segments(usePath(), BASE);
  // The last change seen survives closing the app: reopening shows what was missed.
  const store = useMemo(() => localSeenStore(`curex.pa.last-seen.${profile.user_id}`), [profile.user_id]);
  const live = useLive(store, true);
  const nav = [
    { href: `${BASE}/`, labelKey: "nav.my_transfers", current: section !== "profile" },
    { href: `${BASE}/profile`, labelKey: "nav.profile", current: section === "profile" },
  ];
  return (
    <Shell nav={nav} live={live.status}>
      {section === "transfers" && id ? (
        <>
          <Link href={`${BASE}/`}>{t("transfer.back")}</Link>
          <TransferPanel transferId={id} />
        </>
      ) : section === "profile" ? (
        <ProfilePage />
      ) : (
        <>
          <Updates live={live.live} missed={live.missed} />
          <MyTransfers />
        </>
      )}
    </Shell>
  );
}

if ("serviceWorker" in navigator) {
  void navigator.serviceWorker.register("/pa/sw.js", { scope: "/pa/" }).catch(() => undefined);
}
start("pa", "patient", <PatientApp />);
