/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const page = (name: string) => fileURLToPath(new URL(`./${name}/index.html`, import.meta.url));

// One build, three pages: each application is its own entry so the ops console's charts
// never weigh on the patients' phones.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: { input: { hpa: page("hpa"), pa: page("pa"), ops: page("ops") } },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
