/** i18next with the three catalogs; the language follows the user's saved preference. */
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import type { Language } from "./api";
import en from "../locales/en.json";
import es from "../locales/es.json";
import sv from "../locales/sv.json";

export const LANGUAGES: readonly Language[] = ["en", "es", "sv"];
export const catalogs = { en, es, sv } as const;

const STORED = "curex.language";

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/** The language to show before the profile arrives: last used here, else the browser's. */
export function initialLanguage(stored: string | null, browser: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  const match = browser.map((tag) => tag.slice(0, 2).toLowerCase()).find(isLanguage);
  return match ?? "en";
}

export function setupI18n(): typeof i18next {
  const language = initialLanguage(localStorage.getItem(STORED), navigator.languages ?? []);
  void i18next.use(initReactI18next).init({
    resources: { en: { translation: en }, es: { translation: es }, sv: { translation: sv } },
    lng: language,
    fallbackLng: "en",
    interpolation: { escapeValue: false },
  });
  document.documentElement.lang = language;
  return i18next;
}

/** Applies ``language`` at once; the caller saves it as the user's preference. */
export async function applyLanguage(language: Language): Promise<void> {
  localStorage.setItem(STORED, language);
  document.documentElement.lang = language;
  await i18next.changeLanguage(language);
}
