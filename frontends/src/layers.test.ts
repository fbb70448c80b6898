import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Code flows one way: shared (lib, components) → features → apps; features never import
// each other.
const SRC = dirname(fileURLToPath(import.meta.url));
const FEATURES = ["transfers", "consent", "profile", "ops", "reviews"];
const SHARED = ["lib", "components", "locales"];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

function topFolder(file: string): string {
  return relative(SRC, file).split(/[\\/]/)[0] ?? "";
}

const imports = sources(SRC).flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(/from\s+"(\.[^"]+)"/g)].map((match) => ({
    from: topFolder(file),
    to: topFolder(resolve(dirname(file), match[1] ?? "")),
    file: relative(SRC, file),
  })),
);

describe("the front ends' layers", () => {
  it("keep shared code free of features and apps", () => {
    const wrong = imports.filter((i) => SHARED.includes(i.from) && !SHARED.includes(i.to));
    expect(wrong).toEqual([]);
  });

  it("keep each feature out of the others", () => {
    const wrong = imports.filter((i) => FEATURES.includes(i.from) && i.to !== i.from && !SHARED.includes(i.to));
    expect(wrong).toEqual([]);
  });

  it("were found at all", () => {
    expect(imports.length).toBeGreaterThan(50);
  });
});
