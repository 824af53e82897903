// The team's phones (the Google accounts linked to ATARYS) told in words.
import { formatDate } from "./format.js";

// TODO: take these from src/generated/ once the accounts endpoints are in the OpenAPI
// document (issue 16): account states and the client filter's fields.
export const ACCOUNT_STATES = {
  connected: { label: "Connecté", tone: "green" },
  disconnected: { label: "Déconnecté", tone: "red" },
  first_sync_pending: { label: "Première synchronisation à valider", tone: "amber" },
};

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

/** "29/11/2026 10:00 — réussie" (plus the run's own message when it has one). */
export function lastRunText(run) {
  if (!run) return "Aucune synchronisation pour l'instant.";
  const status = String(run.status || "").toLowerCase();
  const when = formatDate(status === "running" || status === "queued" ? run.started_at : run.finished_at || run.started_at);
  const result = RUN_RESULTS[status] || "terminée";
  const said = run.message && !/[a-z]+_[a-z]+|people\/c|None/.test(run.message) ? ` : ${run.message}` : "";
  if (status === "running") return `En cours depuis ${when}.`;
  return `${when} — ${result}${said}`;
}

export function nextRunText(account) {
  const minutes = account.settings && account.settings.auto_sync_minutes;
  if (minutes === 0) return "Synchronisation automatique désactivée.";
  if (account.next_run) return formatDate(account.next_run);
  return "Pas encore prévue.";
}
