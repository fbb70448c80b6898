// Launching Debian's Chromium, signing in through Keycloak, the axe check, screenshots.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium } from "playwright-core";

export const BASE = process.env.CUREX_WEB_BASE ?? "http://127.0.0.1:8080";
export const ARTIFACTS = process.env.CUREX_BROWSER_ARTIFACTS ?? join(process.cwd(), "browser-tests", "artifacts");
export const PASSWORD = "demo-password";
export const PHONE = { width: 375, height: 812 };
// Long enough for the pipeline (audit, consent, availability) on a loaded 2-core machine.
export const PIPELINE_MS = 30_000;

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launch() {
  // Playwright gives each launch a fresh, empty user-data-dir of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CUREX_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
  });
  let contexts = [];
  return {
    async newUser(options = {}) {
      const created = await browser.newContext({ baseURL: BASE, locale: "en-GB", ...options });
      created.setDefaultTimeout(PIPELINE_MS);
      contexts.push(created);
      return created;
    },
    /** Screenshots of every open page (after a failure), then closes every user's context. */
    async endScenario(dir) {
      let index = 0;
      for (const context of contexts) {
        for (const page of context.pages()) {
          index += 1;
          if (dir) await page.screenshot({ path: join(dir, `failure-${index}.png`), fullPage: true }).catch(() => undefined);
        }
        await context.close().catch(() => undefined);
      }
      contexts = [];
    },
    async close() {
      await browser.close();
    },
  };
}

/** Opens ``app`` and signs ``username`` in on Keycloak's real login page. */
export async function signIn(context, app, username, path = "") {
  const page = await context.newPage();
  await page.goto(`/${app}/${path}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign In" }).click();
  await page.getByText(`Signed in as ${username}`).waitFor();
  return page;
}

export class Evidence {
  constructor(name) {
    this.dir = join(ARTIFACTS, name);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    this.count = 0;
    this.violations = [];
  }

  /** A screenshot and an axe-core check of the screen as it is now. */
  async screen(page, label) {
    this.count += 1;
    await page.screenshot({ path: join(this.dir, `${String(this.count).padStart(2, "0")}-${label}.png`), fullPage: true });
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const violation of serious) {
      this.violations.push(`${label}: ${violation.id} (${violation.impact}) on ${violation.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    }
  }

  assertAccessible() {
    if (this.violations.length > 0) throw new Error(`axe-core found serious violations:\n${this.violations.join("\n")}`);
  }
}

/** A token straight from Keycloak (direct grant), for what a test sets up beside the UI. */
export async function tokenFor(username) {
  const config = await (await fetch(`${BASE}/v1/web/config`)).json();
  const response = await fetch(`${config.authority}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: config.client_id, username, password: PASSWORD }),
  });
  if (!response.ok) return null;
  return (await response.json()).access_token;
}

export async function api(token, method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: response.status === 204 ? null : await response.json().catch(() => null) };
}

/** Every demo user starts in English, whatever an earlier test left as their preference. */
export async function resetLanguages(usernames) {
  for (const username of usernames) {
    const token = await tokenFor(username);
    if (token === null) continue;
    const answer = await api(token, "PATCH", "/v1/me/preferences", { language: "en" });
    expect(answer.status === 200, `resetting ${username}'s language answered ${answer.status}`);
  }
}

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}
