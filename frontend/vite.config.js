import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The built UI is served by Flask (src/atarys/web.py) from src/atarys/static/.
// `npm run dev` proxies the API to a running `atarys serve` on port 5000.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/atarys/static",
    emptyOutDir: true,
    assetsDir: "assets",
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:5000",
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.js"],
    css: false,
  },
});
