import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import SyncPanel from "../components/SyncPanel.jsx";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

const FINAL_RUN = {
  id: 7,
  status: "success",
  done: 12,
  total: 12,
  counts: {
    atarys_to_google: { created: 5, updated: 2, deleted: 1, errors: 0 },
    google_to_atarys: { created: 3, updated: 1, deleted: 0, errors: 0 },
    conflicts: 1,
    duplicates: 0,
  },
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("SyncPanel", () => {
  it("is idle with both buttons at first", () => {
    mockFetch(() => jsonResponse(500, {}));
    render(<SyncPanel />);
    expect(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Aperçu" })).toBeEnabled();
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
  });

  it("asks to connect Google first when not connected", () => {
    mockFetch(() => jsonResponse(500, {}));
    render(<SyncPanel connected={false} />);
    expect(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" })).toBeDisabled();
    expect(screen.getByText(/Connectez Google/)).toBeInTheDocument();
  });

  it("shows a progress bar while the run is in flight, then the counts per direction", async () => {
    let polls = 0;
    const calls = mockFetch(({ method, url }) => {
      if (method === "POST" && url.endsWith("/sync-all")) {
        return jsonResponse(202, envelope({ run_id: 7, status: "running" }, "Synchronisation lancée"));
      }
      if (url.endsWith("/runs/7")) {
        polls += 1;
        if (polls < 3) return jsonResponse(200, envelope({ id: 7, status: "running", done: polls * 4, total: 12 }));
        return jsonResponse(200, envelope(FINAL_RUN));
      }
      return jsonResponse(404, failure("?"));
    });
    const finished = vi.fn();
    render(<SyncPanel pollInterval={5} onRunFinished={finished} />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));

    const bar = await screen.findByRole("progressbar");
    expect(bar).toBeInTheDocument();
    await screen.findByText("Synchronisation terminée");
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")[0].body).toEqual({ async: true });

    const result = screen.getByTestId("sync-result");
    const a2g = within(result).getByText("ATARYS → Google").parentElement;
    expect(within(a2g).getByText("créés").nextSibling).toHaveTextContent("5");
    const g2a = within(result).getByText("Google → ATARYS").parentElement;
    expect(within(g2a).getByText("créés").nextSibling).toHaveTextContent("3");
    expect(screen.getByText(/1 conflit à régler/)).toBeInTheDocument();
    expect(finished).toHaveBeenCalledWith(expect.objectContaining({ id: 7 }));
  });

  it("reports the progress done / total", async () => {
    mockFetch(({ method, url }) => {
      if (method === "POST") return jsonResponse(202, envelope({ run_id: 3 }));
      if (url.endsWith("/runs/3")) return jsonResponse(200, envelope({ id: 3, status: "running", progress: { done: 4, total: 10 } }));
      return jsonResponse(404, failure("?"));
    });
    render(<SyncPanel pollInterval={5} />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    await waitFor(() => expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "4"));
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuemax", "10");
    expect(screen.getByText("4 / 10 (40 %)")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Synchronisation en cours…" })).toBeDisabled();
  });

  it("shows the seed's synchronous answer directly", async () => {
    mockFetch(() =>
      jsonResponse(
        200,
        envelope({ atarys_to_google: { success: 15, errors: 0 }, google_to_atarys: { success: 8, errors: 1 } }, "Synchronisation complète terminée"),
      ),
    );
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    await screen.findByText("Synchronisation terminée");
    expect(screen.getByTestId("run-counts")).toHaveTextContent("15");
  });

  it("explains a quota error with the time to wait", async () => {
    mockFetch(() => jsonResponse(429, failure("Quota Google dépassé", { code: "quota" }), { "Retry-After": "120" }));
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    const alert = await screen.findByText("Quota Google atteint");
    expect(alert.closest("[data-error-kind]")).toHaveTextContent("Réessayez dans 2 minutes");
    expect(screen.getByRole("button", { name: "Réessayer" })).toBeInTheDocument();
  });

  it("explains that Google is not connected", async () => {
    mockFetch(() => jsonResponse(409, failure("Google n'est pas connecté.", { code: "not_connected" })));
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    expect(await screen.findByText("Google n'est pas connecté")).toBeInTheDocument();
    expect(screen.getByText(/Connecter Google/)).toBeInTheDocument();
  });

  it("explains a revoked token", async () => {
    mockFetch(() => jsonResponse(401, failure("Le jeton Google a été révoqué.", { code: "token_revoked" })));
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    expect(await screen.findByText("Accès Google révoqué")).toBeInTheDocument();
  });

  it("explains a network failure", async () => {
    mockFetch(() => {
      throw new TypeError("Failed to fetch");
    });
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    expect(await screen.findByText("Connexion au serveur impossible")).toBeInTheDocument();
  });

  it("offers to force after the mass-deletion breaker, asking for confirmation first", async () => {
    const calls = mockFetch(({ body }) => {
      if (body && body.force) return jsonResponse(200, envelope(FINAL_RUN, "Synchronisation terminée"));
      return jsonResponse(409, failure("42 contacts seraient supprimés : synchronisation bloquée.", { code: "mass_deletion", deletions: 42 }));
    });
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    expect(await screen.findByText("Synchronisation arrêtée par sécurité")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Forcer la synchronisation" }));
    const dialog = screen.getByRole("dialog", { name: "Forcer la synchronisation ?" });
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1); // nothing sent before confirming

    await userEvent.click(within(dialog).getByRole("button", { name: "Annuler" }));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);

    await userEvent.click(screen.getByRole("button", { name: "Forcer la synchronisation" }));
    await userEvent.click(screen.getByRole("button", { name: "Oui, forcer la synchronisation" }));
    await screen.findByText("Synchronisation terminée");
    expect(calls.filter((c) => c.method === "POST")[1].body).toEqual({ async: true, force: true });
  });

  it("treats a run that failed on the breaker like the synchronous refusal", async () => {
    mockFetch(({ method }) => {
      if (method === "POST") return jsonResponse(202, envelope({ run_id: 9 }));
      return jsonResponse(200, envelope({ id: 9, status: "failed", error: "Suppression massive bloquée", error_code: "mass_deletion" }));
    });
    render(<SyncPanel pollInterval={5} />);
    await userEvent.click(screen.getByRole("button", { name: "Synchroniser avec Google Contacts" }));
    expect(await screen.findByRole("button", { name: "Forcer la synchronisation" })).toBeInTheDocument();
  });

  it("previews a dry run as a per-contact, per-field diff", async () => {
    const calls = mockFetch(() =>
      jsonResponse(
        200,
        envelope(
          {
            items: [
              {
                direction: "atarys_to_google",
                action: "update",
                client_id: 4,
                label: "Jean Dupont",
                changes: [{ field: "telephone", before: "+33612345678", after: "+33698765432" }],
              },
              { direction: "google_to_atarys", action: "create", google_id: "people/c9", after: { nom: "Martin", prenom: "Claire" } },
            ],
          },
          "Aperçu",
        ),
      ),
    );
    render(<SyncPanel />);
    await userEvent.click(screen.getByRole("button", { name: "Aperçu" }));
    const preview = await screen.findByTestId("sync-preview");
    expect(calls.filter((c) => c.method === "POST")[0].body).toEqual({ dry_run: true });
    expect(within(preview).getByText("Jean Dupont")).toBeInTheDocument();
    expect(within(preview).getByText("Téléphone")).toBeInTheDocument();
    expect(within(preview).getByText("06 98 76 54 32")).toBeInTheDocument();
    expect(within(preview).getByText("MARTIN Claire")).toBeInTheDocument();
    const summary = within(preview).getByTestId("run-summary");
    expect(summary).toHaveTextContent("Depuis Google : 1 client créé — MARTIN Claire");
    expect(summary).toHaveTextContent("Vers Google : 1 contact modifié — Jean Dupont (téléphone)");
    expect(within(preview).getAllByTestId("change-item")).toHaveLength(2);
    expect(within(preview).getByText(/rien n'a été écrit/)).toBeInTheDocument();
  });
});
