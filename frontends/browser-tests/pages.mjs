// Page objects: each screen as the user sees it, by roles and labels.
import { PIPELINE_MS } from "./harness.mjs";

export class TransferScreen {
  constructor(page) {
    this.page = page;
  }

  /** Waits, without reloading, until the transfer shows ``stateName``. */
  async showsState(stateName) {
    await this.page.locator(".current-state").getByText(stateName, { exact: true }).waitFor({ timeout: PIPELINE_MS });
  }

  async take(actionName) {
    await this.page.getByRole("button", { name: actionName, exact: true }).click();
  }

  actionButton(actionName) {
    return this.page.getByRole("button", { name: actionName, exact: true });
  }

  history() {
    return this.page.getByRole("table", { name: "Every change, as recorded on the ledger" });
  }

  alert() {
    return this.page.getByRole("alert");
  }
}

export class Hpa extends TransferScreen {
  async request({ patientId, sourceOrg, purpose = "Treatment (TREAT)", justification = null }) {
    await this.page.getByRole("link", { name: "Request records" }).click();
    await this.page.getByLabel("Patient identifier at the home organisation").fill(patientId);
    await this.page.getByLabel("Home organisation", { exact: true }).fill(sourceOrg);
    await this.page.getByLabel("Purpose of use").selectOption({ label: purpose });
    if (justification !== null) {
      await this.page.getByLabel("Emergency (the patient cannot consent)").check();
      await this.page.getByLabel("Emergency justification").fill(justification);
    }
    await this.page.getByRole("button", { name: "Send request" }).click();
    await this.page.waitForURL(/\/hpa\/transfers\/tr-/);
    return decodeURIComponent(this.page.url().split("/transfers/")[1]);
  }

  async openFromList(transferId) {
    await this.page.getByRole("link", { name: "Transfers", exact: true }).click();
    await this.page.getByRole("link", { name: transferId.slice(0, 11) }).click();
  }
}

export class Pa extends TransferScreen {
  card(transferId) {
    return this.page.getByRole("listitem").filter({ hasText: transferId.slice(0, 11) });
  }

  async open(transferId) {
    await this.card(transferId).getByRole("link", { name: "Details" }).click();
  }

  async backToList() {
    await this.page.getByRole("link", { name: "Back to the list" }).click();
  }
}
