// Display helpers (French formats).

const dateTime = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "short" });

export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateTime.format(date);
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1).replace(".", ",")} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m} min ${s} s`;
}

export const FIELD_LABELS = {
  nom: "Nom",
  prenom: "Prénom",
  email: "E-mail",
  telephone: "Téléphone",
  adresse: "Adresse",
  ville: "Ville",
  code_postal: "Code postal",
  entreprise: "Entreprise",
  fonction: "Fonction",
};

export function fieldLabel(name) {
  return FIELD_LABELS[name] || name;
}

export function showValue(value) {
  if (value === null || value === undefined || value === "") return "(vide)";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function clientName(c) {
  if (!c) return "";
  return [c.prenom, c.nom].filter(Boolean).join(" ") || c.email || c.name || "";
}
