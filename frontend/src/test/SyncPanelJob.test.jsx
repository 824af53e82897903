// The sync panel against the exact shapes the ATARYS API answers (background job, run).
import { afterEach, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import SyncPanel from "../components/SyncPanel.jsx";
import { envelope, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

const counts = (created, updated = 0) => ({ created, updated, deleted: 0, errors: 0, linked: 0, success: created + updated, unlinked: 0 });

it("follows a background job to its run and shows the run's counts", async () => {
  let polls = 0;
  mockFetch(({ method, url }) => {
    if (method === "POST") {
      return jsonResponse(
        202,
        envelope({ run_id: "job-abc", engine_run_id: null, status: "running", progress: { done: 0, total: null }, result: null, error: null }),
        { Location: "/api/google-contacts/runs/job-abc" },
      );
    }
    if (url.endsWith("/runs/job-abc")) {
      polls += 1;
      if (polls === 1) return jsonResponse(200, envelope({ run_id: "job-abc", status: "running", progress: { done: 30, total: 92 } }));
      return jsonResponse(
        200,
        envelope({
          run_id: "job-abc",
          engine_run_id: 2,
          status: "finished",
          progress: { done: 92, total: 92 },
          result: { run_id: 2, status: "success", atarys_to_google: counts(40), google_to_atarys: counts(52), conflicts: 0, open_conflicts: 0, duplicates: 4 },
          run: { id: 2, status: "success", counts: { atarys_to_google: counts(40), google_to_atarys: counts(52) }, conflicts: 0, duplicates: 4, items: [] },
        }),
      );
    }
    return jsonResponse(404, { success: false, message: "?" });
  });
  const finished = vi.fn();
  render(<SyncPanel pollInterval={5} onRunFinished={finished} />);
  await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
  await screen.findByText("Synchronisation terminée");
  const result = screen.getByTestId("sync-result");
  expect(within(result).getByText("4 doublons à examiner", { exact: false })).toBeInTheDocument();
  expect(result.querySelector('[data-count="atarys_to_google.created"]')).toHaveTextContent("40");
  expect(result.querySelector('[data-count="google_to_atarys.created"]')).toHaveTextContent("52");
  expect(finished).toHaveBeenCalledWith(expect.objectContaining({ id: 2, status: "success" }));
});

it("explains a job that failed on the mass-deletion breaker and offers to force", async () => {
  mockFetch(({ method }) => {
    if (method === "POST") return jsonResponse(202, envelope({ run_id: "job-x", status: "running", progress: { done: 0, total: null } }));
    return jsonResponse(
      200,
      envelope({
        run_id: "job-x",
        status: "failed",
        error: {
          status: 409,
          message: "Synchronisation refusée : elle supprimerait trop de contacts. Vérifiez avec une simulation (dry_run) puis relancez avec force=true.",
        },
      }),
    );
  });
  render(<SyncPanel pollInterval={5} />);
  await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
  expect(await screen.findByText("Synchronisation arrêtée par sécurité")).toBeInTheDocument();
  expect(screen.getByRole("button", { name: "Forcer la synchronisation" })).toBeInTheDocument();
  expect(screen.getByRole("button", { name: "Voir l'aperçu" })).toBeInTheDocument();
});

it("shows a dry-run plan item with its fields for each side", async () => {
  mockFetch(() =>
    jsonResponse(
      200,
      envelope({
        dry_run: true,
        atarys_to_google: counts(0),
        google_to_atarys: counts(0),
        plan: [
          {
            action: "create_google",
            client_id: 16,
            direction: "atarys_to_google",
            resource_name: null,
            to_atarys: {},
            to_google: { nom: { before: null, after: "Thomas" }, prenom: { before: null, after: "François" }, ville: { before: null, after: "Nantes" } },
          },
          {
            action: "update_atarys",
            client_id: 3,
            direction: "google_to_atarys",
            resource_name: "people/c9",
            to_atarys: { telephone: { before: "+33612345678", after: "+33698765432" } },
            to_google: {},
          },
        ],
      }),
    ),
  );
  render(<SyncPanel />);
  await userEvent.click(screen.getByRole("button", { name: "Aperçu" }));
  const preview = await screen.findByTestId("sync-preview");
  expect(within(preview).getByText("THOMAS François")).toBeInTheDocument();
  expect(within(preview).getByText("Nantes")).toBeInTheDocument();
  expect(within(preview).getByText("06 98 76 54 32")).toBeInTheDocument();
  // Counts computed from the plan, since a dry run reports none.
  expect(preview.querySelector('[data-count="atarys_to_google.created"]')).toHaveTextContent("1");
  expect(preview.querySelector('[data-count="google_to_atarys.updated"]')).toHaveTextContent("1");
});

it("reads the quota's wait from a failed job's message", async () => {
  mockFetch(({ method }) => {
    if (method === "POST") return jsonResponse(202, envelope({ run_id: "job-q", status: "running", progress: { done: 0, total: null } }));
    return jsonResponse(
      200,
      envelope({ run_id: "job-q", status: "failed", error: { status: 429, message: "Quota de l'API Google dépassé : réessayez dans 60 s." } }),
    );
  });
  render(<SyncPanel pollInterval={5} />);
  await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
  const notice = (await screen.findByText("Quota Google atteint")).closest("[data-error-kind]");
  expect(notice).toHaveTextContent("Réessayez dans 1 minute.");
});
