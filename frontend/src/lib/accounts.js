// The team's phones (the Google accounts linked to ATARYS) told in words.
import { formatDate } from "./format.js";
import { accountDataStateValues } from "../generated/api.ts";

// The states come from the OpenAPI document (src/generated/api.ts); only their words are here.
const STATE_WORDS = {
  connected: { label: "Connecté", tone: "green" },
  disconnected: { label: "Déconnecté", tone: "red" },
  first_sync_pending: { label: "Première synchronisation à valider", tone: "amber" },
};
export const ACCOUNT_STATES = Object.fromEntries(
  accountDataStateValues.map((state) => [state, STATE_WORDS[state] || { label: "État inconnu", tone: "slate" }]),
);

// TODO: take the filter's fields from src/generated/ once the OpenAPI document lists them
// as an enumeration (ClientFilterIn's properties today).
export const FILTER_FIELDS = [
  ["ville", "Ville"],
  ["code_postal", "Code postal"],
  ["entreprise", "Entreprise"],
  ["tag", "Étiquette"],
];

const RUN_RESULTS = {
  success: "réussie",
  finished: "réussie",
  partial: "terminée avec des erreurs",
  failed: "en échec",
  refused: "bloquée par sécurité (trop de suppressions)",
  interrupted: "interrompue",
  running: "en cours",
  queued: "en attente",
};

/** The account's state: `{label, tone}`. */
export function accountState(account) {
  const state =
    account.state || (account.first_sync_pending ? "first_sync_pending" : account.connected ? "connected" : "disconnected");
  return ACCOUNT_STATES[state] || ACCOUNT_STATES.disconnected;
}

/** "Tous les clients", or "Ville : Lyon · Étiquette : chantier-nord". */
export function filterText(filter) {
  const parts = FILTER_FIELDS.filter(([key]) => filter && String(filter[key] ?? "").trim()).map(
    ([key, label]) => `${label} : ${String(filter[key]).trim()}`,
  );
  return parts.length ? parts.join(" · ") : "Tous les clients";
}

/** The filter as the API takes it: only the fields filled in, or null for every client. */
export function filterBody(values) {
  const out = {};
  for (const [key] of FILTER_FIELDS) {
    const value = String(values[key] ?? "").trim();
    if (value) out[key] = value;
  }
  return Object.keys(out).length ? out : null;
}

/** "29/11/2026 10:00 — réussie". */
export function lastRunText(run) {
  if (!run) return "Aucune synchronisation pour l'instant.";
  const status = String(run.status || "").toLowerCase();
  const when = formatDate(status === "running" || status === "queued" ? run.started_at : run.finished_at || run.started_at);
  const result = RUN_RESULTS[status] || "terminée";
  if (status === "running") return `En cours depuis ${when}.`;
  return `${when} — ${result}`; // what went wrong is told under « Dernière erreur »
}

export function nextRunText(account) {
  const minutes = account.settings && account.settings.auto_sync_minutes;
  if (minutes === 0) return "Synchronisation automatique désactivée.";
  if (account.next_run) return formatDate(account.next_run);
  return "Pas encore prévue.";
}
