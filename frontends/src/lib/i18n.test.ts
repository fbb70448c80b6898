import { describe, expect, it } from "vitest";
import { catalogs, initialLanguage, LANGUAGES } from "./i18n";
import { TRANSFER_STATES } from "./states";

function keys(node: unknown, prefix = ""): string[] {
  if (typeof node !== "object" || node === null) return [prefix];
  return Object.entries(node).flatMap(([key, value]) => keys(value, prefix ? `${prefix}.${key}` : key));
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/{{\s*(\w+)\s*}}/g)].map((match) => match[1] ?? "").sort();
}

const english = keys(catalogs.en).sort();

describe("the catalogs", () => {
  it.each(LANGUAGES.filter((l) => l !== "en"))("%s has every English key and no other", (language) => {
    expect(keys(catalogs[language]).sort()).toEqual(english);
  });

  it.each(LANGUAGES)("%s has no empty text and keeps every placeholder", (language) => {
    for (const key of english) {
      const text = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], catalogs[language]);
      const source = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], catalogs.en);
      expect(typeof text === "string" && text.trim().length > 0, `${language}: ${key}`).toBe(true);
      expect(placeholders(text as string), `${language}: ${key}`).toEqual(placeholders(source as string));
    }
  });

  it("names every transfer state", () => {
    for (const state of TRANSFER_STATES) expect(english).toContain(`state.${state}`);
  });
});

describe("the first language shown", () => {
  it("is the one last used in this browser", () => {
    expect(initialLanguage("sv", ["es-ES"])).toBe("sv");
  });

  it("is else the browser's first supported language", () => {
    expect(initialLanguage(null, ["de-DE", "es-ES", "en"])).toBe("es");
  });

  it("is English when nothing matches", () => {
    expect(initialLanguage("fr", ["de"])).toBe("en");
  });
});
