import { Shell } from "../components/Shell";
import { Overview } from "../ops";
import { start } from "./common";

function OpsConsole() {
  return (
    <Shell nav={[{ href: "/ops/", labelKey: "nav.overview", current: true }]}>
      <Overview />
    </Shell>
  );
}

start("ops", "ops", <OpsConsole />);
