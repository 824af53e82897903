import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import ClientsPage from "../pages/ClientsPage.jsx";
import { setCsrfToken } from "../lib/api.js";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

const CLIENTS = [
  { id: 1, nom: "Martin", prenom: "Jean", email: "jean.martin@exemple.fr", telephone: "+33612345678", ville: "Paris", updated_at: "2026-11-24T00:00:10+00:00" },
  { id: 2, nom: "Petit", prenom: "Claire", email: "claire.petit@exemple.fr", telephone: null, ville: "Lyon", updated_at: "2026-11-24T00:00:10+00:00" },
];
const PAGE = { page: 1, per_page: 20, total: 2, pages: 1, has_next: false, has_prev: false };

beforeEach(() => window.history.replaceState({}, "", "/clients"));
afterEach(() => vi.unstubAllGlobals());

function api(overrides = () => null) {
  return mockFetch((call) => {
    const answer = overrides(call);
    if (answer) return answer;
    if (call.url.startsWith("/api/clients/?")) return jsonResponse(200, envelope(CLIENTS, "2 client(s) trouvé(s)", { pagination: PAGE }));
    if (call.url.endsWith("/conflicts")) return jsonResponse(200, envelope([{ id: 9, client_id: 2, field: "ville", status: "open" }]));
    if (call.url.endsWith("/duplicates")) return jsonResponse(200, envelope([]));
    if (call.url.endsWith("/settings")) return jsonResponse(200, envelope({ phone_region: "FR", atarys_deletions: "propagate" }));
    if (call.url.includes("/links")) return jsonResponse(200, envelope([{ client_id: 1, resource_name: "people/c1", synced_at: "2026-11-24T00:00:20+00:00" }]));
    return jsonResponse(404, failure("?"));
  });
}

it("lists clients with a sync badge each", async () => {
  api();
  render(<ClientsPage />);
  const row1 = (await screen.findByText("MARTIN Jean")).closest("tr");
  expect(within(row1).getByText("Synchronisé")).toBeInTheDocument();
  const row2 = screen.getByText("PETIT Claire").closest("tr");
  expect(await within(row2).findByText("Conflit")).toBeInTheDocument();
  expect(screen.getByText("2 clients — page 1 sur 1")).toBeInTheDocument();
});

it("says so when Google is disconnected, instead of « Synchronisé »", async () => {
  api((call) =>
    call.url.includes("/links")
      ? jsonResponse(200, envelope([{ client_id: 1, resource_name: "people/c1", status: "disconnected", synced_at: "2026-11-24T00:00:20+00:00" }]))
      : null,
  );
  render(<ClientsPage />);
  const row1 = (await screen.findByText("MARTIN Jean")).closest("tr");
  const badge = await within(row1).findByText("Google déconnecté");
  expect(badge).toHaveAttribute("title", expect.stringContaining("Reconnectez Google"));
  expect(within(row1).queryByText("Synchronisé")).toBeNull();
});

it("shows the API's validation errors under each input, and sends the CSRF token", async () => {
  setCsrfToken("jeton-csrf");
  const calls = api(({ method }) =>
    method === "POST"
      ? jsonResponse(422, failure("Données invalides.", null, { errors: { nom: "Ce champ est obligatoire.", email: "Adresse e-mail invalide." } }))
      : null,
  );
  render(<ClientsPage />);
  await userEvent.click(screen.getByRole("button", { name: "Nouveau client" }));
  const dialog = screen.getByRole("dialog", { name: "Nouveau client" });
  await userEvent.type(within(dialog).getByLabelText("E-mail"), "pas-une-adresse");
  await userEvent.click(within(dialog).getByRole("button", { name: "Enregistrer" }));
  const email = within(dialog).getByLabelText("E-mail");
  expect(await within(dialog).findByText("Adresse e-mail invalide.")).toBeInTheDocument();
  expect(email).toHaveAttribute("aria-invalid", "true");
  expect(email).toHaveAccessibleDescription("Adresse e-mail invalide.");
  expect(within(dialog).getByLabelText("Nom")).toHaveAccessibleDescription("Ce champ est obligatoire.");
  const post = calls.find((c) => c.method === "POST");
  expect(post.headers["X-CSRF-Token"]).toBe("jeton-csrf");
  expect(post.body.email).toBe("pas-une-adresse");
  expect(post.body.prenom).toBeNull();
});

it("asks before deleting a client", async () => {
  const calls = api(({ method }) => (method === "DELETE" ? jsonResponse(200, envelope({ id: 1 }, "Client supprimé")) : null));
  render(<ClientsPage />);
  await userEvent.click(await screen.findByRole("button", { name: "Actions pour MARTIN Jean" }));
  await userEvent.click(screen.getByRole("menuitem", { name: "Supprimer" }));
  expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  expect(screen.getByRole("dialog")).toHaveTextContent("Son contact sera aussi supprimé de Google Contacts");
  expect(screen.getByRole("dialog")).not.toHaveTextContent("peut");
  await userEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Supprimer" }));
  expect(await screen.findByText("Client supprimé")).toBeInTheDocument();
  expect(calls.find((c) => c.method === "DELETE").url).toBe("/api/clients/1");
});

it("shows phones as people write them and keeps page, sort and search in the address", async () => {
  window.history.replaceState({}, "", "/clients?q=martin&tri=-nom&page=2");
  const calls = api();
  render(<ClientsPage />);
  const row = (await screen.findByText("MARTIN Jean")).closest("tr");
  expect(within(row).getAllByText("06 12 34 56 78").length).toBeGreaterThan(0);
  expect(screen.getByLabelText("Rechercher")).toHaveValue("martin");
  expect(screen.getByLabelText("Trier par")).toHaveValue("-nom");
  const list = calls.find((c) => c.url.startsWith("/api/clients/?"));
  expect(list.url).toContain("page=2");
  expect(list.url).toContain("sort=-nom");
  expect(list.url).toContain("q=martin");
  await userEvent.selectOptions(screen.getByLabelText("Trier par"), "ville");
  await vi.waitFor(() => expect(window.location.search).toBe("?q=martin&tri=ville"));
});

it("sends the étiquette typed in the form, explains it, and shows it in the list", async () => {
  const tagged = [{ ...CLIENTS[0], tag: "chantier-nord" }, CLIENTS[1]];
  const calls = api(({ method, url }) => {
    if (method === "PUT") return jsonResponse(200, envelope({ ...CLIENTS[1], tag: "chantier-sud" }, "Client mis à jour"));
    if (method === "GET" && url.startsWith("/api/clients/?")) return jsonResponse(200, envelope(tagged, "", { pagination: PAGE }));
    return null;
  });
  render(<ClientsPage />);
  const row1 = (await screen.findByText("MARTIN Jean")).closest("tr");
  expect(within(row1).getByTestId("client-tag")).toHaveTextContent("Étiquette : chantier-nord");
  const row2 = screen.getByText("PETIT Claire").closest("tr");
  expect(within(row2).queryByTestId("client-tag")).toBeNull();

  // Editing MARTIN shows the tag he has; editing PETIT gives him one.
  await userEvent.click(within(row1).getByRole("button", { name: "Actions pour MARTIN Jean" }));
  await userEvent.click(screen.getByRole("menuitem", { name: "Modifier" }));
  expect(within(screen.getByRole("dialog")).getByLabelText("Étiquette")).toHaveValue("chantier-nord");
  await userEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Annuler" }));

  await userEvent.click(within(row2).getByRole("button", { name: "Actions pour PETIT Claire" }));
  await userEvent.click(screen.getByRole("menuitem", { name: "Modifier" }));
  const dialog = screen.getByRole("dialog");
  const field = within(dialog).getByLabelText("Étiquette");
  expect(field).toHaveValue("");
  expect(field).toHaveAccessibleDescription(/quels téléphones de l'équipe reçoivent ce client/);
  await userEvent.type(field, "  chantier-sud ");
  await userEvent.click(within(dialog).getByRole("button", { name: "Enregistrer" }));
  expect(await screen.findByText("Client mis à jour")).toBeInTheDocument();
  const put = calls.find((c) => c.method === "PUT");
  expect(put.url).toBe("/api/clients/2");
  expect(put.body.tag).toBe("chantier-sud");
  expect(put.body.nom).toBe("Petit");
});

it("shows the API's error for a too long étiquette under the field", async () => {
  api(({ method }) =>
    method === "POST" ? jsonResponse(422, failure("Données invalides.", null, { errors: { tag: "Trop long : 100 caractères au maximum." } })) : null,
  );
  render(<ClientsPage />);
  await userEvent.click(screen.getByRole("button", { name: "Nouveau client" }));
  const dialog = screen.getByRole("dialog", { name: "Nouveau client" });
  await userEvent.type(within(dialog).getByLabelText("Nom"), "Durand");
  await userEvent.click(within(dialog).getByRole("button", { name: "Enregistrer" }));
  expect(await within(dialog).findByText("Trop long : 100 caractères au maximum.")).toBeInTheDocument();
  expect(within(dialog).getByLabelText("Étiquette")).toHaveAttribute("aria-invalid", "true");
  expect(within(dialog).getByText("Le formulaire contient des erreurs")).toBeInTheDocument();
});

it("limits each field of the form to what the API accepts (from its OpenAPI schema)", async () => {
  api();
  render(<ClientsPage />);
  await userEvent.click(screen.getByRole("button", { name: "Nouveau client" }));
  const dialog = screen.getByRole("dialog", { name: "Nouveau client" });
  expect(within(dialog).getByLabelText("Code postal")).toHaveAttribute("maxlength", "10");
  expect(within(dialog).getByLabelText("Nom")).toHaveAttribute("maxlength", "100");
  expect(within(dialog).getByLabelText("Étiquette")).toHaveAttribute("maxlength", "100");
});
