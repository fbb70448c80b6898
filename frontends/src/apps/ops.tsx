import { Shell } from "../components/Shell";
import { useSession } from "../lib/session";
import { Overview } from "../ops";
import { Reviews } from "../reviews";
import { start } from "./common";

/** Operations see the exchange at a glance; a data-protection officer, the reviews. */
function OpsConsole() {
  const { profile } = useSession();
  if (profile.role === "dpo") {
    return (
      <Shell nav={[{ href: "/ops/", labelKey: "nav.reviews", current: true }]}>
        <Reviews />
      </Shell>
    );
  }
  return (
    <Shell nav={[{ href: "/ops/", labelKey: "nav.overview", current: true }]}>
      <Overview />
    </Shell>
  );
}

start("ops", ["ops", "dpo"], <OpsConsole />);
