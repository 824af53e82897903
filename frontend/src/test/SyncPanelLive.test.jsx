import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import SyncPanel from "../components/SyncPanel.jsx";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

const ITEMS = [
  { name: "LEFÈVRE Zoé — Menuiserie Leroy", direction: "google_to_atarys", action: "updated", changes: { fonction: ["Gérante", "Directrice"] } },
  { name: "DURAND Luc", direction: "google_to_atarys", action: "updated", changes: { telephone: ["+33612345678", "+33698765432"] } },
  { name: "MARTIN Jean", direction: "atarys_to_google", action: "created", changes: {} },
];

beforeEach(() => window.localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

it("after a reload, follows the run holding the account, then names who changed", async () => {
  let polls = 0;
  mockFetch(({ url }) => {
    if (url.includes("/runs?")) return jsonResponse(200, envelope([{ id: 12, trigger: "schedule", status: "running", dry_run: false, progress: { done: 2, total: 5 } }]));
    if (url.endsWith("/runs/12")) {
      polls += 1;
      if (polls < 2) return jsonResponse(200, envelope({ id: 12, trigger: "schedule", status: "running", progress: { done: 4, total: 5 } }));
      return jsonResponse(200, envelope({ id: 12, trigger: "schedule", status: "success", dry_run: false, counts: {}, items: ITEMS }));
    }
    return jsonResponse(404, failure("?"));
  });
  render(<SyncPanel pollInterval={5} />);
  expect(await screen.findByTestId("sync-progress")).toHaveTextContent("planifiée");
  expect(screen.getByRole("button", { name: "Synchronisation en cours…" })).toBeDisabled();
  const result = await screen.findByTestId("sync-result");
  expect(within(result).getByTestId("run-summary")).toHaveTextContent(
    "Depuis Google : 2 clients modifiés — LEFÈVRE Zoé — Menuiserie Leroy (fonction), DURAND Luc (téléphone)",
  );
  expect(within(result).getByTestId("run-summary")).toHaveTextContent("Vers Google : 1 contact créé — MARTIN Jean");
  expect(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" })).toBeEnabled();
});

it("tells once, dismissibly, what a background run changed in ATARYS", async () => {
  mockFetch(({ url }) => {
    if (url.includes("/runs?")) return jsonResponse(200, envelope([{ id: 20, trigger: "poll", status: "success", dry_run: false, finished_at: "2026-11-24T10:00:00Z" }]));
    if (url.endsWith("/runs/20")) return jsonResponse(200, envelope({ id: 20, trigger: "poll", status: "success", items: ITEMS }));
    return jsonResponse(404, failure("?"));
  });
  const { unmount } = render(<SyncPanel />);
  const notice = await screen.findByTestId("background-summary");
  expect(notice).toHaveTextContent("Synchronisation planifiée");
  expect(notice).toHaveTextContent("LEFÈVRE Zoé — Menuiserie Leroy (fonction)");
  await userEvent.click(within(notice).getByRole("button", { name: "J'ai vu, masquer" }));
  expect(screen.queryByTestId("background-summary")).toBeNull();
  unmount();
  render(<SyncPanel />);
  await new Promise((r) => setTimeout(r, 50));
  expect(screen.queryByTestId("background-summary")).toBeNull();
});

it("a busy answer follows the other run instead of a red error", async () => {
  mockFetch(({ method, url }) => {
    if (method === "POST") return jsonResponse(409, failure("Une synchronisation est déjà en cours pour ce compte : réessayez dans un instant.", { reason: "busy" }));
    if (url.includes("/runs?")) return jsonResponse(200, envelope([{ id: 30, trigger: "api", status: "running", dry_run: false, progress: { done: 1, total: 3 } }]));
    if (url.endsWith("/runs/30")) return jsonResponse(200, envelope({ id: 30, status: "running", progress: { done: 1, total: 3 } }));
    return jsonResponse(404, failure("?"));
  });
  render(<SyncPanel pollInterval={50} watchInterval={60000} />);
  await screen.findByTestId("sync-progress");
  expect(screen.queryByText(/collègue/)).toBeNull();
  expect(screen.queryByRole("alert")).toBeNull();
});
