import { afterEach, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import PhonesPage from "../pages/PhonesPage.jsx";
import { filterText, lastRunText } from "../lib/accounts.js";
import { envelope, failure, jsonResponse, mockFetch } from "./http.js";

afterEach(() => vi.unstubAllGlobals());

const SETTINGS = { conflict_policy: "newest", google_deletions: "unlink", atarys_deletions: "propagate", import_scope: "all", auto_sync_minutes: 60 };
const ACCOUNTS = [
  {
    id: 1,
    email: "bureau@exemple.fr",
    mode: "oauth",
    state: "connected",
    connected: true,
    first_sync_pending: false,
    last_run: { id: 7, status: "success", started_at: "2026-11-28T09:00:00Z", finished_at: "2026-11-28T09:00:05Z", message: null },
    next_run: "2026-11-28T10:00:00Z",
    last_error: null,
    settings: SETTINGS,
    client_filter: null,
    linked_count: 120,
  },
  {
    id: 2,
    email: "chantier@exemple.fr",
    mode: "oauth",
    state: "first_sync_pending",
    connected: true,
    first_sync_pending: true,
    last_run: { id: 8, status: "failed", started_at: "2026-11-28T09:10:00Z", finished_at: "2026-11-28T09:10:02Z", message: null },
    next_run: null,
    last_error: "Google a refusé l'accès : reconnectez ce téléphone.",
    settings: { ...SETTINGS, conflict_policy: "manual" },
    client_filter: { ville: "Lyon", tag: "chantier-nord" },
    linked_count: 3,
  },
  { id: 3, email: "ancien@exemple.fr", mode: "oauth", state: "disconnected", connected: false, first_sync_pending: false, last_run: null, next_run: null, last_error: null, settings: SETTINGS, client_filter: null, linked_count: 0 },
];

function server({ workspace = 403, accounts = ACCOUNTS } = {}) {
  return mockFetch(({ method, url, body }) => {
    if (url.endsWith("/accounts") && method === "GET") return jsonResponse(200, envelope({ accounts }));
    if (url.includes("/accounts/") && method === "PUT") return jsonResponse(200, envelope({ ...accounts[1], ...body }, "Réglages enregistrés"));
    if (url.includes("/accounts/") && method === "DELETE") return jsonResponse(200, envelope(null, "Compte déconnecté"));
    if (url.endsWith("/auth")) return jsonResponse(200, envelope({ authorization_url: "http://google.test/consent" }));
    if (url.endsWith("/workspace") && method === "GET") {
      return typeof workspace === "number" ? jsonResponse(workspace, failure("Réservé aux administrateurs.")) : jsonResponse(200, envelope(workspace));
    }
    if (url.endsWith("/workspace") && method === "PUT") return jsonResponse(200, envelope({ configured: true, client_email: body.client_email, domain: "exemple.fr", users: [] }));
    if (url.endsWith("/workspace/users") && method === "POST") return jsonResponse(201, envelope({ configured: true, client_email: "sa@p.iam.gserviceaccount.com", domain: "exemple.fr", users: [body.email] }));
    return jsonResponse(404, failure("?"));
  });
}

it("lists each phone by e-mail with its state, runs, error and filter in words", async () => {
  server();
  render(<PhonesPage />);
  const cards = await screen.findAllByTestId("account");
  expect(cards).toHaveLength(3);
  expect(within(cards[0]).getByText("Connecté")).toBeInTheDocument();
  expect(within(cards[0]).getByTestId("account-filter")).toHaveTextContent("Tous les clients (120 clients synchronisés)");
  expect(cards[0]).toHaveTextContent("réussie");
  expect(within(cards[1]).getByText("Première synchronisation à valider")).toBeInTheDocument();
  expect(within(cards[1]).getByTestId("account-filter")).toHaveTextContent("Ville : Lyon · Étiquette : chantier-nord");
  expect(cards[1]).toHaveTextContent("en échec");
  expect(cards[1]).toHaveTextContent("Google a refusé l'accès : reconnectez ce téléphone.");
  expect(cards[1]).toHaveTextContent("Me demander (réglage manuel)");
  expect(within(cards[2]).getByText("Déconnecté")).toBeInTheDocument();
  expect(cards[2]).toHaveTextContent("Aucune synchronisation pour l'instant.");
  // Not an admin: no Workspace section; and nothing a developer would write.
  expect(screen.queryByText("Google Workspace")).toBeNull();
  expect(document.body.textContent).not.toMatch(/first_sync_pending|null|undefined|None|\/api\//);
});

it("edits a phone's filter and settings and sends them", async () => {
  const calls = server();
  render(<PhonesPage />);
  const card = (await screen.findAllByTestId("account"))[1];
  await userEvent.click(within(card).getByRole("button", { name: "Modifier les réglages" }));
  const form = within(card).getByRole("form", { name: "Réglages de chantier@exemple.fr" });
  const ville = within(form).getByLabelText("Ville");
  expect(ville).toHaveValue("Lyon");
  await userEvent.clear(ville);
  await userEvent.type(ville, "Villeurbanne");
  await userEvent.type(within(form).getByLabelText("Code postal"), "69100");
  await userEvent.clear(within(form).getByLabelText("Étiquette"));
  await userEvent.selectOptions(within(form).getByLabelText("En cas de conflit"), "atarys");
  await userEvent.selectOptions(within(form).getByLabelText("Contacts du téléphone à importer"), "group");
  await userEvent.click(within(form).getByRole("button", { name: "Enregistrer les réglages" }));
  expect(await within(card).findByText("Réglages du téléphone chantier@exemple.fr enregistrés.")).toBeInTheDocument();
  const put = calls.find((c) => c.method === "PUT");
  expect(put.url).toMatch(/\/api\/google-contacts\/accounts\/2$/);
  expect(put.body).toEqual({
    conflict_policy: "atarys",
    google_deletions: "unlink",
    atarys_deletions: "propagate",
    import_scope: "group",
    auto_sync_minutes: 60,
    client_filter: { ville: "Villeurbanne", code_postal: "69100" },
  });
});

it("shows the API's refusal next to the field, in French", async () => {
  mockFetch(({ method, url }) => {
    if (method === "GET" && url.endsWith("/accounts")) return jsonResponse(200, envelope({ accounts: ACCOUNTS }));
    if (method === "PUT") return jsonResponse(422, failure("Le formulaire contient des erreurs.", null, { errors: { "client_filter.code_postal": "Un code postal a 5 chiffres." } }));
    return jsonResponse(403, failure("Réservé aux administrateurs."));
  });
  render(<PhonesPage />);
  const card = (await screen.findAllByTestId("account"))[0];
  await userEvent.click(within(card).getByRole("button", { name: "Modifier les réglages" }));
  await userEvent.type(within(card).getByLabelText("Code postal"), "6");
  await userEvent.click(within(card).getByRole("button", { name: "Enregistrer les réglages" }));
  expect(await within(card).findByText("Un code postal a 5 chiffres.")).toBeInTheDocument();
  expect(within(card).getByLabelText("Code postal")).toHaveAttribute("aria-invalid", "true");
});

it("asks before a narrower filter takes contacts off a phone, naming them, then applies it", async () => {
  const LEAVING =
    "Avec ce filtre, 2 contacts quitteront le téléphone de chantier@exemple.fr à la prochaine synchronisation (DUPONT Anne, MARTIN Jean). Les clients restent dans ATARYS et reviennent sur le téléphone si vous élargissez le filtre. Rien n'est enregistré : confirmez pour appliquer ce filtre.";
  const calls = mockFetch(({ method, url, body }) => {
    if (method === "GET" && url.endsWith("/accounts")) return jsonResponse(200, envelope({ accounts: ACCOUNTS }));
    if (method === "PUT" && !body.confirm_removals) return jsonResponse(409, failure(LEAVING, { reason: "filter_removes", leaving: 2, names: ["DUPONT Anne", "MARTIN Jean"] }));
    if (method === "PUT") return jsonResponse(200, envelope({ ...ACCOUNTS[1], ...body }, "Réglages enregistrés"));
    return jsonResponse(403, failure("Réservé aux administrateurs."));
  });
  render(<PhonesPage />);
  const card = (await screen.findAllByTestId("account"))[1];
  await userEvent.click(within(card).getByRole("button", { name: "Modifier les réglages" }));
  await userEvent.type(within(card).getByLabelText("Code postal"), "69003");
  await userEvent.click(within(card).getByRole("button", { name: "Enregistrer les réglages" }));
  const dialog = await screen.findByRole("dialog", { name: "Retirer 2 contacts de ce téléphone ?" });
  expect(dialog).toHaveTextContent("DUPONT Anne, MARTIN Jean");
  expect(dialog).toHaveTextContent("Les clients restent dans ATARYS");
  await userEvent.click(within(dialog).getByRole("button", { name: "Appliquer le filtre" }));
  expect(await within(card).findByText("Réglages du téléphone chantier@exemple.fr enregistrés.")).toBeInTheDocument();
  const puts = calls.filter((c) => c.method === "PUT");
  expect(puts).toHaveLength(2);
  expect(puts[0].body.confirm_removals).toBeUndefined();
  expect(puts[1].body.confirm_removals).toBe(true);
  expect(puts[1].body.client_filter).toEqual({ ville: "Lyon", code_postal: "69003", tag: "chantier-nord" });
});

it("disconnects a phone after a confirmation naming its e-mail", async () => {
  const calls = server();
  render(<PhonesPage />);
  const card = (await screen.findAllByTestId("account"))[0];
  await userEvent.click(within(card).getByRole("button", { name: "Déconnecter" }));
  const dialog = screen.getByRole("dialog", { name: "Déconnecter bureau@exemple.fr ?" });
  await userEvent.click(within(dialog).getByRole("button", { name: "Annuler" }));
  expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  await userEvent.click(within(card).getByRole("button", { name: "Déconnecter" }));
  await userEvent.click(screen.getByRole("button", { name: "Déconnecter ce téléphone" }));
  expect(await screen.findByText(/Le téléphone bureau@exemple.fr est déconnecté/)).toBeInTheDocument();
  expect(calls.find((c) => c.method === "DELETE").url).toMatch(/\/accounts\/1$/);
});

it("connects another phone with the e-mail given, through Google's consent page", async () => {
  const calls = server();
  const assign = vi.fn();
  vi.stubGlobal("location", { ...window.location, assign });
  render(<PhonesPage />);
  await screen.findAllByTestId("account");
  await userEvent.click(screen.getByRole("button", { name: "Connecter un autre téléphone" }));
  const dialog = screen.getByRole("dialog", { name: "Connecter un autre téléphone" });
  await userEvent.type(within(dialog).getByLabelText("Adresse e-mail du compte Google (facultatif)"), "nouveau@exemple.fr");
  await userEvent.click(within(dialog).getByRole("button", { name: "Continuer vers Google" }));
  await vi.waitFor(() => expect(assign).toHaveBeenCalledWith("http://google.test/consent"));
  expect(calls.find((c) => c.url.endsWith("/auth")).body).toEqual({ login_hint: "nouveau@exemple.fr" });
});

it("lets an admin upload the Workspace key and add staff", async () => {
  const calls = server({ workspace: { configured: false, client_email: null, domain: null, users: [] } });
  render(<PhonesPage />);
  expect(await screen.findByRole("heading", { name: "Google Workspace" })).toBeInTheDocument();
  const key = { type: "service_account", client_email: "sa@p.iam.gserviceaccount.com", private_key: "-----BEGIN PRIVATE KEY-----" };
  const file = new File([JSON.stringify(key)], "cle.json", { type: "application/json" });
  await userEvent.upload(screen.getByLabelText("Clé du compte de service (fichier JSON)"), file);
  expect(await screen.findByTestId("workspace-key")).toHaveTextContent("sa@p.iam.gserviceaccount.com");
  expect(calls.find((c) => c.method === "PUT").body).toEqual(key);
  expect(screen.getByTestId("workspace-key")).not.toHaveTextContent("BEGIN PRIVATE KEY");
  await userEvent.type(screen.getByLabelText("Adresse e-mail à ajouter"), "chef@exemple.fr");
  await userEvent.click(screen.getByRole("button", { name: "Ajouter" }));
  expect(await screen.findByRole("button", { name: "Retirer chef@exemple.fr" })).toBeInTheDocument();
  expect(calls.find((c) => c.url.endsWith("/workspace/users")).body).toEqual({ email: "chef@exemple.fr" });
});

it("refuses a file that is not a key, in French, sending nothing", async () => {
  const calls = server({ workspace: { configured: false, users: [] } });
  render(<PhonesPage />);
  await screen.findByRole("heading", { name: "Google Workspace" });
  await userEvent.upload(screen.getByLabelText("Clé du compte de service (fichier JSON)"), new File(["pas du json"], "photo.json", { type: "application/json" }));
  expect(await screen.findByText(/n'est pas une clé de compte de service/)).toBeInTheDocument();
  expect(calls.some((c) => c.method === "PUT")).toBe(false);
});

it("words filters and runs", () => {
  expect(filterText(null)).toBe("Tous les clients");
  expect(filterText({ ville: "Lyon", tag: "chantier-nord", entreprise: " " })).toBe("Ville : Lyon · Étiquette : chantier-nord");
  expect(lastRunText({ status: "refused", finished_at: "2026-11-28T09:00:00Z" })).toMatch(/bloquée par sécurité/);
});
