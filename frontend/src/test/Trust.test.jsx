// Issue 14 screens: first sync, "Appliquer ce plan", undo a run, the trashes, « dissocié ».
import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import FirstSyncPanel from "../components/FirstSyncPanel.jsx";
import SyncPanel from "../components/SyncPanel.jsx";
import RunsHistory from "../components/RunsHistory.jsx";
import TrashPanel from "../components/TrashPanel.jsx";
import ClientsPage, { ClientsTrash } from "../pages/ClientsPage.jsx";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

afterEach(() => {
  vi.unstubAllGlobals();
});

const create = (name, extra = {}) => ({ action: "create_google", direction: "atarys_to_google", name, client_id: 1, to_google: { nom: { before: null, after: name } }, to_atarys: {}, ...extra });
const incoming = (name) => ({ action: "create_atarys", direction: "google_to_atarys", name, resource_name: `people/${name}`, to_atarys: { nom: { before: null, after: name } }, to_google: {} });
const SETTINGS = { import_scope: "group", google_deletions: "unlink", atarys_deletions: "propagate", conflict_policy: "newest", phone_region: "FR" };

/** The API's answers to a background apply: queued at first, then the finished run. */
function appliedJob(runId, result) {
  return {
    start: () => jsonResponse(202, envelope({ run_id: runId, status: "queued", progress: { done: 0, total: 3 } }, "Application de l'aperçu lancée en arrière-plan")),
    poll: () => jsonResponse(200, envelope({ run_id: runId, status: "finished", progress: { done: 3, total: 3 }, result: { run_id: runId, ...result } }, "Synchronisation terminée")),
  };
}

/** A fake account: settings kept, a dry run's plan depending on the saved import scope. */
function firstSyncServer({ applyStatus = 200 } = {}) {
  const state = { settings: { ...SETTINGS }, applied: [] };
  const calls = mockFetch(({ method, url, body }) => {
    if (url.endsWith("/settings") && method === "GET") return jsonResponse(200, envelope(state.settings));
    if (url.endsWith("/settings") && method === "PUT") {
      state.settings = { ...state.settings, ...body };
      return jsonResponse(200, envelope(state.settings, "Paramètres enregistrés"));
    }
    if (url.endsWith("/sync-all")) {
      const all = state.settings.import_scope === "all";
      const plan = [
        create("MARTIN Paul — Martin BTP"),
        { action: "link_email", direction: "both", name: "DUBOIS Anne", client_id: 2, resource_name: "people/2", to_google: {}, to_atarys: {} },
        { action: "duplicate", direction: "none", name: "LEROY Paul / LEROY Anne", email: "info@leroy.fr", to_google: {}, to_atarys: {} },
        ...(all ? [incoming("ROUSSEL Aurélie"), incoming("MAMAN"), incoming("GARAGE")] : [incoming("ROUSSEL Aurélie")]),
      ];
      return jsonResponse(200, envelope({ plan, plan_id: all ? "plan-all" : "plan-group", plan_expires_at: "2030-01-01T10:30:00+00:00" }));
    }
    if (url.includes("/plans/")) {
      state.applied.push(url);
      state.bodies = [...(state.bodies || []), body];
      if (applyStatus === 410) return jsonResponse(410, failure("Cet aperçu a expiré (30 minutes) : refaites un aperçu."));
      return appliedJob(9, { changed_since_preview: [] }).start();
    }
    if (url.endsWith("/runs/9")) return appliedJob(9, { changed_since_preview: [] }).poll();
    return jsonResponse(404, failure("?"));
  });
  return { state, calls };
}

describe("Première synchronisation", () => {
  it("previews by name per direction, shows both scopes' counts, and writes nothing before Appliquer", async () => {
    const { state, calls } = firstSyncServer();
    const applied = vi.fn();
    render(<FirstSyncPanel onApplied={applied} />);
    const preview = await screen.findByTestId("first-sync-preview");
    expect(within(preview).getByRole("region", { name: "Vers Google Contacts" })).toHaveTextContent("MARTIN Paul — Martin BTP");
    expect(within(preview).getByRole("region", { name: "Vers ATARYS" })).toHaveTextContent("ROUSSEL Aurélie");
    expect(preview).toHaveTextContent("Reliés par e-mail");
    expect(preview).toHaveTextContent("DUBOIS Anne");
    expect(preview).toHaveTextContent("Doublons trouvés");
    expect(preview).toHaveTextContent("LEROY Paul / LEROY Anne (info@leroy.fr)");
    await waitFor(() => expect(screen.getByText("3 contacts Google importés")).toBeInTheDocument());
    expect(screen.getByText("1 contact Google importé")).toBeInTheDocument();
    // The chosen scope is back as it was; nothing applied yet.
    expect(state.settings.import_scope).toBe("group");
    expect(state.applied).toEqual([]);
    expect(calls.some((c) => c.url.includes("/plans/"))).toBe(false);

    await userEvent.click(screen.getByRole("button", { name: "Appliquer" }));
    // applied as a job on the server (a whole address book outlasts any request), followed here
    expect(await screen.findByTestId("first-sync-progress")).toHaveTextContent("Application de la première synchronisation");
    await waitFor(() => expect(applied).toHaveBeenCalled());
    expect(applied.mock.calls[0][0].message).toBe("Aperçu appliqué");
    expect(state.applied).toEqual(["/api/google-contacts/plans/plan-group/apply"]);
    expect(state.bodies).toEqual([{ async: true }]);
  });

  it("saves changed choices, previews again, and only then lets Appliquer run", async () => {
    const { state } = firstSyncServer();
    render(<FirstSyncPanel onApplied={() => {}} />);
    await screen.findByTestId("first-sync-preview");
    await userEvent.click(screen.getByRole("radio", { name: /Tous les contacts Google/ }));
    await userEvent.selectOptions(screen.getByLabelText("Contact supprimé sur un téléphone"), "propagate");
    expect(screen.getByRole("button", { name: "Appliquer" })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "Enregistrer ces choix et refaire l'aperçu" }));
    const preview = await screen.findByTestId("first-sync-preview");
    await waitFor(() => expect(preview).toHaveTextContent("MAMAN"));
    expect(state.settings).toMatchObject({ import_scope: "all", google_deletions: "propagate" });
    await userEvent.click(screen.getByRole("button", { name: "Appliquer" }));
    await waitFor(() => expect(state.applied).toEqual(["/api/google-contacts/plans/plan-all/apply"]));
  });

  it("after a reload during Appliquer, follows the job still running instead of previewing again", async () => {
    let polls = 0;
    const calls = mockFetch(({ url }) => {
      if (url.includes("/runs?")) return jsonResponse(200, envelope([{ id: 9, status: "running", trigger: "apply", dry_run: false, progress_done: 200, progress_total: 600 }]));
      if (url.endsWith("/runs/9")) {
        polls += 1;
        const done = polls > 1;
        return jsonResponse(200, envelope({ run_id: 9, status: done ? "finished" : "running", progress: { done: done ? 600 : 400, total: 600 }, result: done ? { run_id: 9, changed_since_preview: [] } : null }));
      }
      return jsonResponse(404, failure("?"));
    });
    const applied = vi.fn();
    render(<FirstSyncPanel onApplied={applied} />);
    const progress = await screen.findByTestId("first-sync-progress");
    expect(progress).toHaveTextContent("Application de la première synchronisation");
    await waitFor(() => expect(applied).toHaveBeenCalledWith(null), { timeout: 4000 });
    expect(calls.some((c) => c.url.endsWith("/sync-all"))).toBe(false); // no second preview
  });

  it("an expired preview says so in French and offers to preview again", async () => {
    firstSyncServer({ applyStatus: 410 });
    render(<FirstSyncPanel onApplied={() => {}} />);
    await screen.findByTestId("first-sync-preview");
    await userEvent.click(screen.getByRole("button", { name: "Appliquer" }));
    const error = await screen.findByTestId("plan-error");
    expect(error).toHaveTextContent("Cet aperçu a expiré");
    expect(error).toHaveTextContent("refaites un aperçu");
    expect(within(error).getByRole("button", { name: "Refaire l'aperçu" })).toBeEnabled();
  });
});

describe("Aperçu → Appliquer ce plan", () => {
  const plan = [create("MARTIN Paul", { client_id: 1 }), create("DUBOIS Anne", { client_id: 2 })];
  function server(apply, poll = null) {
    return mockFetch(({ method, url }) => {
      if (url.endsWith("/sync-all") && method === "POST") return jsonResponse(200, envelope({ plan, plan_id: "p1", plan_expires_at: "2030-01-01T10:30:00+00:00" }));
      if (url.endsWith("/plans/p1/apply")) return apply();
      if (poll && url.endsWith("/runs/4")) return poll();
      if (url.includes("/runs")) return jsonResponse(200, envelope([]));
      return jsonResponse(404, failure("?"));
    });
  }

  it("applies the plan and names what changed since the preview, not applied", async () => {
    const job = appliedJob(4, { changed_since_preview: [plan[0]] });
    const calls = server(job.start, job.poll);
    const finished = vi.fn();
    render(<SyncPanel onRunFinished={finished} watchInterval={100000} />);
    await userEvent.click(screen.getByRole("button", { name: "Aperçu" }));
    await userEvent.click(await screen.findByRole("button", { name: "Appliquer ce plan" }));
    const done = await screen.findByTestId("plan-applied");
    expect(done).toHaveTextContent("DUBOIS Anne");
    const changed = within(done).getByTestId("changed-since-preview");
    expect(changed).toHaveTextContent("MARTIN Paul — modifié depuis l'aperçu, non appliqué");
    expect(calls.filter((c) => c.url.endsWith("/apply"))).toHaveLength(1);
    expect(finished).toHaveBeenCalled();
  });

  it("an already applied preview (409) says so and previews again on request", async () => {
    const calls = server(() =>
      jsonResponse(409, failure("Cet aperçu a déjà été appliqué : refaites un aperçu pour voir ce qui reste à faire.", { reason: "plan_applied" })),
    );
    render(<SyncPanel watchInterval={100000} />);
    await userEvent.click(screen.getByRole("button", { name: "Aperçu" }));
    await userEvent.click(await screen.findByRole("button", { name: "Appliquer ce plan" }));
    const error = await screen.findByTestId("plan-error");
    expect(error).toHaveTextContent("Cet aperçu a déjà été appliqué");
    await userEvent.click(within(error).getByRole("button", { name: "Refaire l'aperçu" }));
    await waitFor(() => expect(calls.filter((c) => c.url.endsWith("/sync-all"))).toHaveLength(2));
  });
});

describe("Annuler cette synchronisation", () => {
  it("previews the undo by name, lists what is left alone with its reason, then applies it", async () => {
    const runs = [{ id: 5, status: "success", trigger: "api", dry_run: false, started_at: "2030-01-01T10:00:00Z", finished_at: "2030-01-01T10:00:02Z", atarys_to_google: { created: 1, updated: 1, deleted: 0 }, google_to_atarys: { created: 0, updated: 0, deleted: 0 } }];
    const calls = mockFetch(({ url, body }) => {
      if (url.includes("/runs?")) return jsonResponse(200, envelope(runs));
      if (url.endsWith("/runs/5/undo")) {
        expect(body).toEqual({ dry_run: true });
        return jsonResponse(200, envelope({ plan: [{ action: "delete_google", direction: "atarys_to_google", name: "LEROY Paul", to_google: {}, to_atarys: {} }], plan_id: "u1", skipped: [{ name: "MARTIN Jean", reason: "modifié depuis cette synchronisation : gardé tel quel" }] }));
      }
      if (url.endsWith("/plans/u1/apply")) return jsonResponse(200, envelope({ run_id: 6, changed_since_preview: [] }, "Aperçu appliqué"));
      return jsonResponse(404, failure("?"));
    });
    const changed = vi.fn();
    render(<RunsHistory refreshKey={0} onChanged={changed} />);
    await userEvent.click(await screen.findByRole("button", { name: /Annuler cette synchronisation/ }));
    const dialog = await screen.findByRole("dialog");
    await within(dialog).findByText("LEROY Paul");
    expect(within(dialog).getByText("Contacts supprimés de Google", { exact: false })).toBeInTheDocument();
    const skipped = within(dialog).getByTestId("undo-skipped");
    expect(skipped).toHaveTextContent("MARTIN Jean");
    expect(skipped).toHaveTextContent("modifié depuis cette synchronisation : gardé tel quel");
    expect(calls.some((c) => c.url.includes("/plans/"))).toBe(false);
    await userEvent.click(within(dialog).getByRole("button", { name: "Appliquer l'annulation" }));
    await within(dialog).findByText("Synchronisation annulée");
    expect(changed).toHaveBeenCalled();
  });
});

describe("Corbeilles", () => {
  it("Google: lists the deleted contacts by name and date, and restores one", async () => {
    let rows = [{ id: 3, name: "MARTIN Paul", deleted_at: "2030-01-02T09:15:00Z" }];
    const calls = mockFetch(({ method, url }) => {
      if (url.endsWith("/trash") && method === "GET") return jsonResponse(200, envelope(rows));
      if (url.endsWith("/trash/3/restore")) {
        rows = [];
        return jsonResponse(200, envelope({ id: 3 }, "Contact restauré dans Google Contacts"));
      }
      return jsonResponse(404, failure("?"));
    });
    render(<TrashPanel refreshKey={0} />);
    const list = await screen.findByTestId("google-trash");
    expect(list).toHaveTextContent("MARTIN Paul");
    expect(list).toHaveTextContent("Supprimé le 02/01/2030");
    await userEvent.click(screen.getByRole("button", { name: "Restaurer MARTIN Paul" }));
    await screen.findByText(/MARTIN Paul est de retour dans Google Contacts/);
    await screen.findByText("La corbeille est vide.");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("Clients: a client whose address another client uses now comes back all the same", async () => {
    // E-mails may be shared (a company's info@): the API restores and says with whom.
    let rows = [{ id: 8, nom: "Martin", prenom: "Paul", email: "info@martin-btp.fr", deleted_at: "2030-01-02T09:15:00Z" }];
    const restored = vi.fn();
    const calls = mockFetch(({ method, url }) => {
      if (url.includes("deleted=true")) return jsonResponse(200, envelope(rows));
      if (method === "POST" && url.endsWith("/clients/8/restore")) {
        const client = { ...rows[0], deleted_at: null };
        rows = [];
        return jsonResponse(200, envelope(client, "Client restauré (adresse e-mail partagée avec DUBOIS Anne)"));
      }
      return jsonResponse(404, failure("?"));
    });
    render(<ClientsTrash onClose={() => {}} onRestored={restored} />);
    await screen.findByText("MARTIN Paul");
    await userEvent.click(screen.getByRole("button", { name: "Restaurer MARTIN Paul" }));
    await screen.findByText(
      "MARTIN Paul est de retour dans la liste des clients. Son adresse e-mail est partagée avec DUBOIS Anne.",
    );
    await screen.findByText("La corbeille est vide.");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(restored).toHaveBeenCalledWith(expect.objectContaining({ id: 8 }));
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });
});

describe("Clients dissociés", () => {
  it("shows « dissocié » and turns the client's sync back on from its row", async () => {
    let status = "excluded";
    const calls = mockFetch(({ url }) => {
      if (url.includes("/api/clients/?")) return jsonResponse(200, envelope([{ id: 4, nom: "Martin", prenom: "Paul" }], "", { pagination: { page: 1, pages: 1, total: 1 } }));
      if (url.includes("/links?")) return jsonResponse(200, envelope([{ client_id: 4, status }]));
      if (url.endsWith("/links/4/resume")) {
        status = "pending";
        return jsonResponse(200, envelope({ client_id: 4, resumed: true }));
      }
      if (url.includes("/settings")) return jsonResponse(200, envelope(SETTINGS));
      return jsonResponse(200, envelope([]));
    });
    render(<ClientsPage />);
    const badge = await screen.findByText("dissocié");
    expect(badge.closest("[data-sync-state]")).toHaveAttribute("data-sync-state", "excluded");
    await userEvent.click(screen.getByRole("button", { name: "Actions pour MARTIN Paul" }));
    expect(screen.queryByRole("menuitem", { name: "Synchroniser avec Google" })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("menuitem", { name: "Réactiver la synchronisation" }));
    await screen.findByText(/synchronisation réactivée/);
    await screen.findByText("En attente");
    expect(calls.some((c) => c.method === "POST" && c.url.endsWith("/links/4/resume"))).toBe(true);
  });
});
